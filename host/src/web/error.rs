//! What a request that fails gets: a status and a message, as JSON for the API and as a page
//! for the console. Store failures are logged in full and answered with a generic 500, so no
//! query, path or secret leaks to the caller.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A malformed or unknown parameter, cursor or body field.
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooMany(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("internal error; see the host's log")]
    Internal(String),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        WebError::Internal(e.to_string())
    }
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn log(&self) {
        if let WebError::Internal(detail) = self {
            tracing::error!(error = %crate::text::for_log(detail), "console request failed");
        }
    }

    /// As JSON: `{"error": "..."}`.
    pub fn into_json(self) -> Response {
        self.log();
        let status = self.status();
        let mut response = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"simian\""),
            );
        }
        response
    }

    /// As a small page (escaped by the template).
    pub fn into_page(self) -> Response {
        self.log();
        let status = self.status();
        let page = super::render::ErrorPage {
            status: status.as_u16(),
            message: self.to_string(),
        };
        (status, super::render::html(&page)).into_response()
    }
}

/// API handlers return `ApiResult`; errors come out as JSON.
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_json()
    }
}

/// Page handlers return `PageResult`; errors come out as pages.
pub struct PageError(pub WebError);

impl<E: Into<WebError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.into_page()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
pub type PageResult<T> = Result<T, PageError>;
