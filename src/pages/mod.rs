//! The public side on the web (公开页面): what a villager opens from the QR code on the
//! physical board. Server-rendered HTML under `/p/` (the directory, a board, its star board, a
//! village's finances, the feedback form, the printable A3 board), the public directory as
//! JSON, and the boards' QR codes. No token and nothing private: each page reads what the
//! public JSON route of the same data reads, with the same function. Errors under `/p/` are
//! pages too (see [`layout::error_page`]).

mod board;
mod directory;
mod feedback;
pub mod layout;
pub mod qr;
mod reports;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    directory::configure(cfg);
    qr::configure(cfg);
    board::configure(cfg);
    reports::configure(cfg);
    feedback::configure(cfg);
}

/// Whether a request path is a web page's (its errors are pages, not problem+json).
pub fn is_page(path: &str) -> bool {
    path == "/p" || path.starts_with("/p/")
}
