//! Parameters of a Bot API call, read the way Telegram reads them: from the query string and from a JSON,
//! urlencoded or multipart/form-data body. In multipart and urlencoded bodies every scalar arrives as text and
//! nested objects as JSON strings, so the typed getters accept both forms.

use std::collections::HashMap;

use axum::{
    extract::{FromRequest, Multipart, Request},
    http::header::CONTENT_TYPE,
};
use bytes::Bytes;
use serde_json::{Map, Value};

use crate::error::ApiError;

/// The largest body read for a Bot API call (uploads are checked against their own limit afterwards).
const MAX_BODY: usize = 100 * 1024 * 1024;

/// One uploaded file part of a multipart request.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's bytes.
    pub bytes: Bytes,
    /// The part's `filename`, if any.
    pub file_name: Option<String>,
    /// The part's `Content-Type`, if any.
    pub content_type: Option<String>,
}

/// The parameters of one call: scalar and JSON fields by name, and uploaded file parts by part name.
#[derive(Debug, Default)]
pub struct Params {
    fields: Map<String, Value>,
    files: HashMap<String, Upload>,
}

impl Params {
    /// Reads the query string and body of `req`.
    pub async fn from_request(req: Request) -> Result<Self, ApiError> {
        let mut params = Params::default();
        if let Some(query) = req.uri().query() {
            params.add_urlencoded(query.as_bytes())?;
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
                ApiError::bad_request(format!("can't parse multipart/form-data: {e}"))
            })?;
            loop {
                let field = match multipart.next_field().await {
                    Ok(Some(field)) => field,
                    Ok(None) => break,
                    Err(e) => return Err(multipart_error(&e)),
                };
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let part_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(|e| multipart_error(&e))?;
                // A part is an upload when it has a file name; clients that omit it still send binary
                // content or a non-text type.
                let is_upload = file_name.is_some()
                    || part_type.as_deref().is_some_and(|t| {
                        !t.starts_with("text/") && !t.starts_with("application/json")
                    })
                    || std::str::from_utf8(&bytes).is_err();
                if is_upload {
                    params.files.insert(
                        name,
                        Upload {
                            bytes,
                            file_name,
                            content_type: part_type,
                        },
                    );
                } else {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    params.fields.insert(name, Value::String(text));
                }
            }
            return Ok(params);
        }
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::too_large())?;
        if body.is_empty() {
            return Ok(params);
        }
        if content_type.starts_with("application/x-www-form-urlencoded") {
            params.add_urlencoded(&body)?;
        } else {
            // Telegram reads JSON whenever the body parses as a JSON object, whatever the declared type.
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(map)) => params.fields.extend(map),
                Ok(_) | Err(_) if content_type.starts_with("application/json") => {
                    return Err(ApiError::bad_request("can't parse JSON request body"));
                }
                _ => params.add_urlencoded(&body)?,
            }
        }
        Ok(params)
    }

    /// Parameters from a JSON object (used for the items of `sendMediaGroup`).
    pub fn from_json(fields: Map<String, Value>) -> Self {
        Self {
            fields,
            files: HashMap::new(),
        }
    }

    fn add_urlencoded(&mut self, raw: &[u8]) -> Result<(), ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(raw)
            .map_err(|e| ApiError::bad_request(format!("can't parse request parameters: {e}")))?;
        for (k, v) in pairs {
            self.fields.insert(k, Value::String(v));
        }
        Ok(())
    }

    /// Whether the field is present (and not JSON `null`).
    pub fn has(&self, key: &str) -> bool {
        self.fields.get(key).is_some_and(|v| !v.is_null())
    }

    /// A field as text; numbers and booleans are written out.
    pub fn str(&self, key: &str) -> Option<String> {
        match self.fields.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A field as an integer; `Bad Request` if it is present but not a number.
    pub fn i64(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
                ApiError::bad_request(format!("field \"{key}\" must be a valid Number"))
            }),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!("field \"{key}\" must be a valid Number"))
            }),
            Some(_) => Err(ApiError::bad_request(format!(
                "field \"{key}\" must be a valid Number"
            ))),
        }
    }

    /// A field as a boolean (`true`/`false`, `1`/`0`); absent is `false`.
    pub fn bool(&self, key: &str) -> bool {
        match self.fields.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "1"),
            Some(Value::Number(n)) => n.as_i64().is_some_and(|n| n != 0),
            _ => false,
        }
    }

    /// A field holding a JSON object or array, given either as JSON or as a JSON string.
    pub fn json(&self, key: &str) -> Result<Option<Value>, ApiError> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("can't parse {key} JSON object"))),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// The target chat: `Bad Request: chat_id is empty` if absent; an `@username` is an unknown chat.
    pub fn chat_id(&self) -> Result<i64, ApiError> {
        match self.fields.get("chat_id") {
            None | Some(Value::Null) => Err(ApiError::bad_request("chat_id is empty")),
            Some(Value::String(s)) if s.is_empty() => {
                Err(ApiError::bad_request("chat_id is empty"))
            }
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| ApiError::bad_request("chat not found")),
            Some(Value::Number(n)) => n
                .as_i64()
                .ok_or_else(|| ApiError::bad_request("chat not found")),
            Some(_) => Err(ApiError::bad_request("chat not found")),
        }
    }

    /// An uploaded part by its part name.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files.get(name)
    }

    /// Every uploaded part, for size checks.
    pub fn uploads(&self) -> impl Iterator<Item = &Upload> {
        self.files.values()
    }
}

fn multipart_error(err: &axum::extract::multipart::MultipartError) -> ApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large()
    } else {
        ApiError::bad_request(format!("can't parse multipart/form-data: {err}"))
    }
}
