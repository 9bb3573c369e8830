//! Errors in the caller's language: Chinese with `Accept-Language: zh-CN` (or `zh`), English
//! otherwise. Every message is written once with both texts (`text!`); these tests fail on a
//! missing or mismatched translation anywhere in the source.

mod common;

use std::collections::BTreeSet;

use common::world;
use common::{send_json, spawn_app};
use dangjian::error::ErrorCode;
use serde_json::json;

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

#[test]
fn every_error_code_has_a_chinese_title() {
    for code in ErrorCode::ALL {
        assert!(!code.title().is_empty(), "{}: English title", code.as_str());
        assert!(
            has_cjk(code.label()),
            "{}: Chinese title {:?}",
            code.as_str(),
            code.label()
        );
    }
}

/// The string literals of every `text!(` call under `src/`: (file:line, English, Chinese).
fn text_calls() -> Vec<(String, String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    /// The string literal starting at `s[0]` (a `"`), unescaped enough to compare
    /// placeholders; and the rest of `s` after it.
    fn literal(s: &str) -> Option<(String, &str)> {
        let s = s.strip_prefix('"')?;
        let mut out = String::new();
        let mut chars = s.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        out.push('\\');
                        out.push(e);
                    }
                }
                '"' => return Some((out, &s[i + 1..])),
                c => out.push(c),
            }
        }
        None
    }
    let mut files = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut files,
    );
    let mut calls = Vec::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        for (at, _) in source.match_indices("text!(") {
            let before = &source[..at];
            // Skip the macro's own definition and its doc examples.
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            let line = &source[line_start..source[at..].find('\n').map_or(source.len(), |i| at + i)];
            if line.trim_start().starts_with("//") || line.contains("macro_rules!") {
                continue;
            }
            let rest = source[at + "text!(".len()..].trim_start();
            let where_ = format!("{}:{}", file.display(), before.matches('\n').count() + 1);
            let (en, rest) =
                literal(rest).unwrap_or_else(|| panic!("{where_}: text! must start with an English literal"));
            let rest = rest
                .trim_start()
                .strip_prefix(',')
                .unwrap_or_else(|| panic!("{where_}: text! needs two literals"));
            let (zh, _) =
                literal(rest.trim_start()).unwrap_or_else(|| panic!("{where_}: text! needs a Chinese literal second"));
            calls.push((where_, en, zh));
        }
    }
    calls
}

/// `{name}` and `{}` placeholders of a format string (`{{` escapes skipped). A message built
/// from another carries its two texts as `{x_en}` and `{x_zh}`: both count as `{x}`.
fn placeholders(s: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut positional = 0;
    let mut rest = s.replace("{{", "").replace("}}", "");
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let inner = rest[open + 1..open + close].split(':').next().unwrap_or("").to_string();
        if inner.is_empty() {
            out.insert(format!("#{positional}"));
            positional += 1;
        } else if let Ok(n) = inner.parse::<usize>() {
            out.insert(format!("#{n}"));
        } else {
            let name = inner
                .strip_suffix("_en")
                .or_else(|| inner.strip_suffix("_zh"))
                .unwrap_or(&inner);
            out.insert(name.to_string());
        }
        rest = rest[open + close + 1..].to_string();
    }
    out
}

#[test]
fn every_message_has_its_chinese_text_with_the_same_placeholders() {
    let calls = text_calls();
    assert!(
        calls.len() > 100,
        "found only {} text! calls: is the walk broken?",
        calls.len()
    );
    let mut missing = Vec::new();
    for (at, en, zh) in &calls {
        assert!(!en.trim().is_empty(), "{at}: empty English text");
        // A message that only quotes another's words (`{e}`) may say so in Chinese around
        // them; every other message must be Chinese.
        if !has_cjk(zh) {
            missing.push(format!("{at}: {en:?} has no Chinese text ({zh:?})"));
        }
        assert_eq!(
            placeholders(en),
            placeholders(zh),
            "{at}: {en:?} and {zh:?} differ in placeholders"
        );
    }
    assert!(
        missing.is_empty(),
        "messages without a translation:\n{}",
        missing.join("\n")
    );
}

#[actix_web::test]
async fn problems_speak_the_callers_language() {
    let app = spawn_app().await;
    let w = world::build(&app).await;
    let body = json!({"parent_id": w.branch_a, "kind": "group", "name": "   "});

    let zh = send_json(
        app.server
            .post("/api/v1/orgs")
            .bearer_auth(w.token("admin"))
            .insert_header(("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")),
        &body,
    )
    .await;
    let problem = zh.assert_problem(422, "validation_failed");
    assert_eq!(zh.header("content-language"), Some("zh-CN"));
    assert_eq!(problem["title"], "提交的数据未通过校验");
    assert_eq!(problem["detail"], "1 个字段未通过校验");
    assert_eq!(problem["errors"][0]["code"], "length", "codes stay the stable keys");
    assert_eq!(problem["errors"][0]["message"], "长度须为 1 到 100 个字符");

    let en = send_json(app.server.post("/api/v1/orgs").bearer_auth(w.token("admin")), &body).await;
    let problem = en.assert_problem(422, "validation_failed");
    assert_eq!(en.header("content-language"), Some("en"));
    assert_eq!(problem["title"], "Request body is not valid");
    assert_eq!(problem["errors"][0]["message"], "must be 1 to 100 characters");

    // Errors made outside the handlers too: 401 from the middleware, 404 from routing.
    let reply = common::send(app.server.get("/api/v1/orgs").insert_header(("Accept-Language", "zh"))).await;
    let problem = reply.assert_problem(401, "unauthorized");
    assert!(has_cjk(problem["title"].as_str().unwrap()), "{problem}");
    assert!(has_cjk(problem["detail"].as_str().unwrap()), "{problem}");
    let reply = common::send(
        app.server
            .get("/api/v1/nowhere")
            .insert_header(("Accept-Language", "zh-TW")),
    )
    .await;
    let problem = reply.assert_problem(404, "not_found");
    assert!(has_cjk(problem["detail"].as_str().unwrap()), "{problem}");
    // A message made of another speaks one language throughout.
    let path = format!("/api/v1/orgs/{}", w.branch_a);
    let tag = world::get(&app, w.token("admin"), &path)
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let reply = common::send(
        app.server
            .delete(&path)
            .bearer_auth(w.token("admin"))
            .insert_header(("If-Match", tag))
            .insert_header(("Accept-Language", "zh-CN")),
    )
    .await;
    let problem = reply.assert_problem(409, "conflict");
    assert_eq!(problem["detail"], "不能删除该组织：它还有下级组织。");
    // A language we do not speak gets English.
    let reply = common::send(
        app.server
            .get("/api/v1/nowhere")
            .insert_header(("Accept-Language", "fr")),
    )
    .await;
    let problem = reply.assert_problem(404, "not_found");
    assert!(!has_cjk(problem["detail"].as_str().unwrap()), "{problem}");
}
