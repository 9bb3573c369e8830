//! Checks of members' personal fields: the national ID number (GB 11643), mobile numbers,
//! and the pinyin used to search names.

use chrono::NaiveDate;
use pinyin::ToPinyin;

/// Why an ID number is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 17 digits followed by a digit or `X`.
    Format,
    /// The check character does not match (GB 11643 MOD 11-2).
    Checksum,
    /// Characters 7–14 are not a real date.
    BirthDate,
}

impl IdNumberError {
    /// The field error for an ID number refused at `pointer` (codes `format`, `checksum`,
    /// `birth_date`), for every record that holds one.
    pub fn field_error(self, pointer: &str) -> crate::error::FieldError {
        use crate::text;
        let (code, message) = match self {
            IdNumberError::Format => (
                "format",
                text!(
                    "must be 17 digits followed by a digit or X",
                    "须为 17 位数字加一位数字或 X"
                ),
            ),
            IdNumberError::Checksum => (
                "checksum",
                text!("the check character is wrong (GB 11643)", "校验码错误（GB 11643）"),
            ),
            IdNumberError::BirthDate => (
                "birth_date",
                text!("characters 7–14 are not a real date", "第 7–14 位不是有效的日期"),
            ),
        };
        crate::error::FieldError::body(pointer, code, message)
    }
}

/// Validates an 18-character ID number and returns it normalised (upper-case `X`) with the
/// birth date it encodes.
pub fn parse_id_number(raw: &str) -> Result<(String, NaiveDate), IdNumberError> {
    let id = raw.to_ascii_uppercase();
    let bytes = id.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(IdNumberError::Format);
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if CHECK[(sum % 11) as usize] != bytes[17] {
        return Err(IdNumberError::Checksum);
    }
    let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| IdNumberError::BirthDate)?;
    Ok((id, birth))
}

/// Mobile numbers: 11 digits starting with 1.
pub fn valid_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

/// Full pinyin without tones or spaces (`chengjun`) and initials (`cj`) of a name; other
/// letters and digits are kept in lower case.
pub fn pinyin_of(name: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for (ch, py) in name.chars().zip(name.to_pinyin()) {
        match py {
            Some(py) => {
                full.push_str(py.plain());
                initials.push_str(py.first_letter());
            }
            None if ch.is_ascii_alphanumeric() => {
                let lower = ch.to_ascii_lowercase();
                full.push(lower);
                initials.push(lower);
            }
            None => {}
        }
    }
    (full, initials)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked() {
        let (id, birth) = parse_id_number("110101199003074514").unwrap();
        assert_eq!(parse_id_number(" 110101199003074514"), Err(IdNumberError::Format));
        assert_eq!(id, "110101199003074514");
        assert_eq!(birth, NaiveDate::from_ymd_opt(1990, 3, 7).unwrap());
        assert_eq!(
            parse_id_number("11010119900307452x").map(|(id, _)| id),
            Err(IdNumberError::Checksum)
        );
        assert_eq!(parse_id_number("110101199003074515"), Err(IdNumberError::Checksum));
        assert_eq!(parse_id_number("110101199002304517"), Err(IdNumberError::BirthDate));
        assert_eq!(parse_id_number("11010119900307451"), Err(IdNumberError::Format));
        assert_eq!(parse_id_number("1101011990030745AB"), Err(IdNumberError::Format));
    }

    #[test]
    fn mobiles_and_pinyin() {
        assert!(valid_mobile("13812345678"));
        assert!(!valid_mobile("23812345678"));
        assert!(!valid_mobile("1381234567"));
        assert_eq!(pinyin_of("程军"), ("chengjun".to_string(), "cj".to_string()));
        assert_eq!(pinyin_of("胡汪节"), ("huwangjie".to_string(), "hwj".to_string()));
    }
}
