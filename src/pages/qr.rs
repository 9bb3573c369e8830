//! QR codes for the physical boards (展板二维码): each encodes the absolute address of a
//! board's web page, built from `DANGJIAN_PUBLIC_BASE_URL`, so a villager's phone camera opens
//! the live board.

use actix_web::{HttpRequest, HttpResponse, get, web};
use qrcode::{Color, EcLevel, QrCode};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::config::Config;
use crate::error::{ApiError, ErrorCode, Problem};
use crate::http::Query;
use crate::orgs::entity as org;
use crate::state::AppState;
use crate::text;

/// The absolute address of the board page of organisation `id` (the current year's board:
/// a code printed once keeps opening the board of the year it is read in).
pub fn board_url(config: &Config, id: Uuid) -> String {
    format!("{}/p/orgs/{id}/board", config.public_base_url)
}

/// Modules of white around the code, as the QR standard asks for.
const QUIET_ZONE: usize = 4;

fn encode(url: &str) -> Result<QrCode, ApiError> {
    // Level M survives a scuffed or rain-marked board (15 % of the code).
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(ApiError::internal)
}

/// The code for `url` as an SVG element of `size` × `size` pixels (at least; whole modules),
/// without an XML declaration, so it can stand inside an HTML page too.
pub fn svg(url: &str, size: u32) -> Result<String, ApiError> {
    let drawn = encode(url)?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    Ok(match drawn.find("<svg") {
        Some(start) => drawn[start..].to_owned(),
        None => drawn,
    })
}

/// The code for `url` as a greyscale PNG of exactly `size` × `size` pixels: whole-pixel
/// modules, centred, the rest white.
pub fn png(url: &str, size: u32) -> Result<Vec<u8>, ApiError> {
    let code = encode(url)?;
    let width = code.width();
    let colors = code.to_colors();
    let modules = width + 2 * QUIET_ZONE;
    let size = size as usize;
    let scale = Ord::max(size / modules, 1);
    let side = Ord::max(size, scale * modules);
    let offset = (side - scale * modules) / 2 + QUIET_ZONE * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = (i % width, i / width);
            for dy in 0..scale {
                let row = (offset + y * scale + dy) * side + offset + x * scale;
                pixels[row..row + scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(ApiError::internal)?;
    writer.write_image_data(&pixels).map_err(ApiError::internal)?;
    writer.finish().map_err(ApiError::internal)?;
    Ok(out)
}

/// `?size=` of a QR code.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrParams {
    /// Width and height in pixels, 64–2048; default 300 (about 5 cm at print resolution).
    #[param(minimum = 64, maximum = 2048)]
    pub size: Option<u32>,
}

impl QrParams {
    fn size(&self) -> Result<u32, ApiError> {
        match self.size {
            None => Ok(300),
            Some(s) if (64..=2048).contains(&s) => Ok(s),
            Some(_) => Err(ApiError::bad_request(
                ErrorCode::InvalidQuery,
                text!(
                    "size must be between 64 and 2048 pixels",
                    "size 须在 64 到 2048 像素之间"
                ),
            )),
        }
    }
}

/// The board page's address of a live organisation, else 404.
async fn url_of(state: &AppState, id: Uuid) -> Result<String, ApiError> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let live = org::Entity::find_by_id(id)
        .filter(org::Column::DeletedAt.is_null())
        .count(&state.db)
        .await?;
    if live == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(board_url(&state.config, id))
}

/// The QR code of an organisation's board page (`/p/orgs/{id}/board` under
/// `DANGJIAN_PUBLIC_BASE_URL`), as SVG for printing at any size. No token; cacheable.
#[utoipa::path(tag = "public", params(("id" = Uuid, Path), QrParams), responses(
    (status = 200, description = "The code", content_type = "image/svg+xml", body = String, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 400, description = "`size` out of bounds", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/public/orgs/{id}/board/qr.svg")]
async fn board_qr_svg(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Query(params): Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    drawn(
        &state,
        &req,
        *id,
        &params,
        |url, size| Ok(svg(url, size)?.into_bytes()),
        "image/svg+xml",
    )
    .await
}

/// The QR code of an organisation's board page as a PNG of `size` × `size` pixels. No
/// token; cacheable.
#[utoipa::path(tag = "public", params(("id" = Uuid, Path), QrParams), responses(
    (status = 200, description = "The code", content_type = "image/png", body = Vec<u8>, headers(("ETag" = String), ("Cache-Control" = String))),
    (status = 304, description = "Unchanged since If-None-Match"),
    (status = 400, description = "`size` out of bounds", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
))]
#[get("/api/v1/public/orgs/{id}/board/qr.png")]
async fn board_qr_png(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    Query(params): Query<QrParams>,
) -> Result<HttpResponse, ApiError> {
    drawn(&state, &req, *id, &params, png, "image/png").await
}

/// The code of organisation `id`'s board page drawn by `draw` at the asked size, cacheable.
async fn drawn(
    state: &AppState,
    req: &HttpRequest,
    id: Uuid,
    params: &QrParams,
    draw: impl Fn(&str, u32) -> Result<Vec<u8>, ApiError>,
    media_type: &'static str,
) -> Result<HttpResponse, ApiError> {
    let size = params.size()?;
    let body = draw(&url_of(state, id).await?, size)?;
    Ok(crate::http::conditional::public_body(req, body, media_type))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(board_qr_svg).service(board_qr_png);
}
