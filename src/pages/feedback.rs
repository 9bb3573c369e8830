//! Feedback from the board's web page (群众监督): a plain HTML form that posts to the same
//! write path as `POST /api/v1/public/pledges/{id}/feedback` (validation, rate limit, audit),
//! shows its errors in Chinese on the page, and is protected against cross-site request
//! forgery by a signed token held both in a cookie and in the form (no account needed).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use maud::{Markup, html};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::layout::{page, uncached};
use crate::error::{ApiError, ErrorCode, Lang};
use crate::orgs::entity as org;
use crate::pledges::board::{leave_feedback, public_pledge};
use crate::pledges::entity::pledge;
use crate::pledges::types::NewFeedback;
use crate::state::AppState;
use crate::text;

/// The cookie holding the form's token.
const TOKEN_COOKIE: &str = "dj_form";
/// How long a form stays valid after it was opened.
const TOKEN_LIFETIME_SECS: i64 = 24 * 3600;
/// Form bodies larger than this are refused (a message is at most 500 characters).
const MAX_FORM_BYTES: usize = 16 * 1024;

/// A new form token: when it was issued, a random nonce, and the server's signature of both.
fn new_token(state: &AppState) -> String {
    let unsigned = format!("{}.{}", crate::db::now().timestamp(), crate::crypto::random_token(16));
    let signature = state.data_keys.sign_form_token(&unsigned);
    format!("{unsigned}.{signature}")
}

/// Whether `token` was issued by this server within the token's lifetime.
fn token_is_valid(state: &AppState, token: &str) -> bool {
    let Some((unsigned, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Some(issued) = unsigned.split('.').next().and_then(|t| t.parse::<i64>().ok()) else {
        return false;
    };
    let age = crate::db::now().timestamp() - issued;
    (0..=TOKEN_LIFETIME_SECS).contains(&age) && state.data_keys.verify_form_token(unsigned, signature)
}

/// A post comes from our own form: the token in the form is the one in the cookie, ours and
/// fresh; and where the browser says where the post comes from (`Sec-Fetch-Site`, `Origin`),
/// it is this site.
fn same_site_post(state: &AppState, req: &HttpRequest, form_token: &str) -> bool {
    if cookie(req, TOKEN_COOKIE).as_deref() != Some(form_token) || !token_is_valid(state, form_token) {
        return false;
    }
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|site| site != "same-origin" && site != "none") {
        return false;
    }
    match header("origin") {
        None => true,
        Some(origin) => same_origin(state, req, origin),
    }
}

/// Whether a browser's `Origin` is this site: the origin of `DANGJIAN_PUBLIC_BASE_URL`, or
/// `http(s)://` and the `Host` the browser sent (a page posts to the host it was read from;
/// no other site can choose that header). Forwarded headers are not trusted here.
fn same_origin(state: &AppState, req: &HttpRequest, origin: &str) -> bool {
    let base = &state.config.public_base_url;
    let public_origin = match base.find("://") {
        Some(i) => base[i + 3..].find('/').map_or(base.as_str(), |j| &base[..i + 3 + j]),
        None => base.as_str(),
    };
    let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok());
    origin == public_origin
        || host.is_some_and(|host| origin == format!("http://{host}") || origin == format!("https://{host}"))
}

/// The value of the cookie `name`, if the request carries it.
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The pledge, its organisation's name: what the form page shows above the form.
async fn pledge_and_org(state: &AppState, id: Uuid) -> Result<(pledge::Model, String), ApiError> {
    let p = public_pledge(&state.db, id).await?;
    let org_name = org::Entity::find_by_id(p.org_id)
        .one(&state.db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok((p, org_name))
}

/// What was typed, kept when the form is shown again with errors.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct FeedbackForm {
    /// The token from the form page (with its cookie): protects against cross-site posts.
    #[serde(default)]
    pub token: String,
    /// 1–500 characters.
    #[serde(default)]
    pub message: String,
    /// Optional, never shown publicly.
    #[serde(default)]
    pub name: String,
    /// Optional mobile number, never shown publicly.
    #[serde(default)]
    pub phone: String,
}

fn render_form(p: &pledge::Model, org_name: &str, token: &str, typed: &FeedbackForm, errors: &[String]) -> Markup {
    page(
        "我要监督",
        html! {
            h1 { "我要监督" }
            div.card {
                strong { (p.title) }
                div.muted { (org_name) " · " (p.year) "年度承诺" }
                p { (p.content) }
            }
            @if !errors.is_empty() {
                div.errors role="alert" {
                    strong { "没有提交成功：" }
                    ul { @for e in errors { li { (e) } } }
                }
            }
            form #feedback-form method="post" action={ "/p/pledges/" (p.id) "/feedback" } {
                input type="hidden" name="token" value=(token);
                label for="message" { "您的意见或建议（必填，500字以内）" }
                textarea #message name="message" rows="5" maxlength="500" required { (typed.message) }
                label for="name" { "称呼（选填，不公开）" }
                input #name type="text" name="name" maxlength="50" autocomplete="name" value=(typed.name);
                label for="phone" { "手机号（选填，不公开，便于回访）" }
                input #phone type="tel" name="phone" maxlength="11" inputmode="numeric" autocomplete="tel" value=(typed.phone);
                button #submit type="submit" { "提交" }
            }
            p.muted { "支部答复后，您的留言和答复会显示在公开栏上；称呼和手机号不会公开。" }
            p { a href={ "/p/orgs/" (p.org_id) "/board?year=" (p.year) } { "‹ 返回公开栏" } }
        },
    )
}

/// A form page with a fresh token, in its cookie too.
fn form_response(
    state: &AppState,
    status: StatusCode,
    (p, org_name): &(pledge::Model, String),
    typed: &FeedbackForm,
    errors: &[String],
) -> HttpResponse {
    let token = new_token(state);
    let secure = if state.config.public_base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let mut response = uncached(status, render_form(p, org_name, &token, typed, errors));
    let cookie = format!(
        "{TOKEN_COOKIE}={token}; Path=/p/pledges/; Max-Age={TOKEN_LIFETIME_SECS}; HttpOnly; SameSite=Strict{secure}"
    );
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The feedback form of a pledge on the board: the pledge, a message box and optional name
/// and phone (never shown publicly). Not cached: it carries a token for its post.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The form", content_type = "text/html", body = String, headers(("Set-Cookie" = String))),
    (status = 404, description = "No such pledge on the board: a page saying so", content_type = "text/html", body = String),
))]
#[get("/p/pledges/{id}/feedback")]
async fn feedback_form(state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let shown = pledge_and_org(&state, *id).await?;
    Ok(form_response(
        &state,
        StatusCode::OK,
        &shown,
        &FeedbackForm::default(),
        &[],
    ))
}

/// Posts the feedback form (`application/x-www-form-urlencoded`: `token`, `message`, `name`,
/// `phone`). Success redirects (303) to the thank-you page; invalid input (422) or too many
/// messages from the address (429) shows the form again with the errors in Chinese; a post
/// without the form's token and cookie (another site's, or an expired form) is 403.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path)),
    request_body(content = FeedbackForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Received: on to the thank-you page", headers(("Location" = String))),
        (status = 400, description = "Not a form body: a page saying so", content_type = "text/html", body = String),
        (status = 403, description = "Not posted from this site's form, or the form expired: the form again, with what was typed and a fresh token", content_type = "text/html", body = String),
        (status = 404, description = "No such pledge on the board: a page saying so", content_type = "text/html", body = String),
        (status = 413, description = "Body over 16 KiB: a page saying so", content_type = "text/html", body = String),
        (status = 415, description = "Not `application/x-www-form-urlencoded`: a page saying so", content_type = "text/html", body = String),
        (status = 422, description = "The form again, with what to correct", content_type = "text/html", body = String),
        (status = 429, description = "The form again: too many messages from this address", content_type = "text/html", body = String),
))]
#[post("/p/pledges/{id}/feedback")]
async fn post_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")) {
        return Err(ApiError::UnsupportedMediaType {
            expected: "application/x-www-form-urlencoded",
        });
    }
    if body.len() > MAX_FORM_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: MAX_FORM_BYTES,
        });
    }
    let form: FeedbackForm = serde_urlencoded::from_bytes(&body)
        .map_err(|e| ApiError::bad_request(ErrorCode::MalformedForm, text!("not a form: {e}", "表单格式有误：{e}")))?;
    let shown = pledge_and_org(&state, *id).await?;
    if !same_site_post(&state, &req, &form.token) {
        // The form again, with what was typed and a fresh token: a villager whose form expired
        // (or whose browser dropped the cookie) sends it once more; another site cannot read
        // this answer, so showing the text back gives it nothing.
        let expired = "表单已过期，或不是从本站提交的。请核对内容后再点一次“提交”。".to_owned();
        return Ok(form_response(&state, StatusCode::FORBIDDEN, &shown, &form, &[expired]));
    }
    let optional = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
    let feedback = NewFeedback {
        message: form.message.clone(),
        name: optional(&form.name),
        phone: optional(&form.phone),
    };
    match leave_feedback(&state, &req, *id, &feedback).await {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/p/pledges/{id}/feedback/thanks")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish()),
        Err(err)
            if matches!(
                err.code().status(),
                StatusCode::UNPROCESSABLE_ENTITY | StatusCode::TOO_MANY_REQUESTS
            ) =>
        {
            let problem = err.problem(Lang::Zh);
            let mut errors: Vec<String> = problem
                .errors
                .iter()
                .map(|f| field_error(&f.pointer, &f.message))
                .collect();
            if errors.is_empty() {
                errors.push(problem.detail.clone());
            }
            let mut response = form_response(&state, err.code().status(), &shown, &form, &errors);
            if let ApiError::RateLimited { retry_after_secs } = err {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs));
            }
            Ok(response)
        }
        Err(err) => Err(err),
    }
}

/// A field's error as the form names the field.
fn field_error(pointer: &Option<String>, message: &str) -> String {
    let field = match pointer.as_deref() {
        Some("/message") => "意见或建议",
        Some("/name") => "称呼",
        Some("/phone") => "手机号",
        _ => return message.to_owned(),
    };
    format!("{field}：{message}")
}

/// The thank-you page after feedback was received, linking back to the board.
#[utoipa::path(tag = "pages", params(("id" = Uuid, Path)), responses(
    (status = 200, description = "The page", content_type = "text/html", body = String),
    (status = 404, description = "No such pledge on the board: a page saying so", content_type = "text/html", body = String),
))]
#[get("/p/pledges/{id}/feedback/thanks")]
async fn feedback_thanks(state: web::Data<AppState>, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let p = public_pledge(&state.db, *id).await?;
    Ok(uncached(
        StatusCode::OK,
        page(
            "感谢您的监督",
            html! {
                h1 #thanks { "感谢您的监督！" }
                p { "您对“" (p.title) "”的留言已收到。支部会认真阅读并答复，答复后会显示在公开栏上。" }
                p { a href={ "/p/orgs/" (p.org_id) "/board?year=" (p.year) } { "‹ 返回公开栏" } }
            },
        ),
    ))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(feedback_form)
        .service(post_feedback)
        .service(feedback_thanks);
}
