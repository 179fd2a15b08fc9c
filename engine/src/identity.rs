//! Who a website says its customer is: a widget's identify token, checked
//! by the app (`app/src/widget/identity.rs`), names them; the engine keeps
//! it with their help session.

use serde::{Deserialize, Serialize};

/// A customer the site's backend vouched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub email: Option<String>,
    /// The site's own id for them (`sub`).
    pub reference: Option<String>,
}
