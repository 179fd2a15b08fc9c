//! The team's WASM entry point: hydrates any page of the app (the desk,
//! supervision, admin, sign-in), served to every page but the customer's.

#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate().await;
}
