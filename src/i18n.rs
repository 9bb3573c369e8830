//! The two languages of the API's messages: English, and Chinese for the front-ends that show
//! `title`, `detail` and field messages to township users.
//!
//! Every message a client can see is a [`Text`], and a `Text` is made only by [`text!`],
//! which takes the English and the Chinese side by side: a message without its translation
//! does not compile. `tests/i18n.rs` walks every `text!` in the source and every error code
//! and fails on a missing or mismatched translation.

use std::borrow::Cow;

/// The language of a response, from the request's `Accept-Language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The language the client prefers among ours: the `zh…` or `en…` range with the highest
    /// weight (RFC 9110 section 12.5.4); English when it names neither.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::En };
        let mut best: Option<(f32, Lang)> = None;
        for item in header.split(',') {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = if range == "zh" || range.starts_with("zh-") {
                Lang::Zh
            } else if range == "en" || range.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, lang));
            }
        }
        best.map(|(_, lang)| lang).unwrap_or(Lang::En)
    }

    /// The `Content-Language` of a response in this language.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }
}

/// A message in English and Chinese. Build it with [`text!`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    en: Cow<'static, str>,
    zh: Cow<'static, str>,
}

impl Text {
    /// Used by [`text!`]; call that instead, so the translation checks see the message.
    #[doc(hidden)]
    pub fn pair(en: impl Into<Cow<'static, str>>, zh: impl Into<Cow<'static, str>>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// `text!("must be 1 to {max} characters", "须为 1 到 {max} 个字符")`: a message in both
/// languages, each a `format!` string over the same arguments (inline `{name}` captures or
/// trailing arguments).
#[macro_export]
macro_rules! text {
    ($en:literal, $zh:literal $(,)?) => {
        $crate::i18n::Text::pair(format!($en), format!($zh))
    };
    ($en:literal, $zh:literal, $($arg:tt)+) => {
        $crate::i18n::Text::pair(format!($en, $($arg)+), format!($zh, $($arg)+))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_ours() {
        let lang = |h| Lang::from_accept_language(Some(h));
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(lang("zh-CN"), Lang::Zh);
        assert_eq!(lang("zh"), Lang::Zh);
        assert_eq!(lang("zh-Hans-CN,zh;q=0.9,en;q=0.8"), Lang::Zh);
        assert_eq!(lang("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En);
        assert_eq!(lang("fr, zh;q=0.5"), Lang::Zh);
        assert_eq!(lang("fr"), Lang::En);
        assert_eq!(lang("zh;q=0"), Lang::En);
        assert_eq!(lang("*"), Lang::En);
    }

    #[test]
    fn text_formats_both_sides_with_the_same_arguments() {
        let max = 5;
        let t = text!("at most {max}", "至多 {max}");
        assert_eq!(t.get(Lang::En), "at most 5");
        assert_eq!(t.get(Lang::Zh), "至多 5");
        let t = text!("{} of {}", "{1}中的{0}", 1, 2);
        assert_eq!(t.get(Lang::Zh), "2中的1");
    }
}
