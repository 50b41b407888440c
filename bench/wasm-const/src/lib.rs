//! The wasm floor for `make bench`: read the body, answer a constant. Raw `web_sys` types, so
//! nothing but the unavoidable glue runs per request.
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;
use worker::web_sys::{Request, Response, ResponseInit};
use worker::{event, Context, Env, Result};

const BODY: &str = r#"{"valid":false,"code":"NOT_FOUND"}"#;

#[event(fetch)]
async fn fetch(req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    JsFuture::from(req.array_buffer().map_err(worker::Error::from)?).await.map_err(worker::Error::from)?;
    let init = ResponseInit::new();
    let headers = worker::web_sys::Headers::new().map_err(worker::Error::from)?;
    headers.set("content-type", "application/json").map_err(worker::Error::from)?;
    headers.set("cache-control", "no-store").map_err(worker::Error::from)?;
    init.set_headers(&JsValue::from(headers));
    Response::new_with_opt_str_and_init(Some(BODY), &init).map_err(worker::Error::from)
}
