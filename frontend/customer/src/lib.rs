//! The customer's WASM entry point: hydrates the customer's pages, and has
//! no other page's code (`app::App` without the `staff` feature).

#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate().await;
}
