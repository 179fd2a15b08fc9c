//! The panel's side of the messages with the host page (`bridge.js`); in
//! the browser only.

/// What the customer sees, as the host page is told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The request form.
    Form,
    /// In the line, at this position.
    Waiting(i64),
    /// In conversation.
    Talking,
    /// Done (ended, left, closed).
    Ended,
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen(module = "/src/widget/bridge.js")]
    extern "C" {
        pub fn listen(origins: Vec<String>, on_identify: &Closure<dyn Fn(String)>);
        pub fn tell(state: &str, position: Option<f64>);
    }
}

/// Listens to the loader on one of `origins`; `on_identify` gets each
/// token the host page hands over.
pub fn listen(origins: Vec<String>, on_identify: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    {
        let closure = wasm_bindgen::closure::Closure::<dyn Fn(String)>::new(on_identify);
        browser::listen(origins, &closure);
        // Lives as long as the page.
        closure.forget();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (origins, on_identify);
}

/// Tells the host page what the customer sees now.
pub fn tell(status: Status) {
    #[cfg(feature = "hydrate")]
    match status {
        Status::Form => browser::tell("form", None),
        Status::Waiting(position) => browser::tell("waiting", Some(position as f64)),
        Status::Talking => browser::tell("talking", None),
        Status::Ended => browser::tell("ended", None),
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = status;
}
