//! The browser's files as the pages name them. `scripts/build` writes two
//! bundles and the stylesheet under names that change whenever their content
//! does (so browsers may keep them for a year), and lists the names in
//! `assets.json` at the site's root:
//! - the customer's bundle, for the customer's pages (`/` and the widget's
//!   panel): their own code only, a fraction of the size;
//! - the team's bundle, for every other page: all of the app.

use serde::Deserialize;

/// The names in `assets.json`, each relative to the site's root: a bundle
/// is `pkg/<name>-<hash>/<name>` (its `.js` and `_bg.wasm`; its lazily
/// loaded parts beside them are fetched by its own `__wasm_split.js`), the
/// stylesheet `pkg/switchboard-<hash>.css`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Assets {
    pub customer: String,
    pub staff: String,
    pub stylesheet: String,
}

/// Which bundle a page loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bundle {
    Customer,
    Staff,
}

impl Bundle {
    /// The customer's pages are the routes the customer's bundle has (the
    /// router in `lib.rs` without the `staff` feature).
    pub fn for_path(path: &str) -> Self {
        match path {
            "/" | "/widget" => Bundle::Customer,
            _ => Bundle::Staff,
        }
    }
}

impl Assets {
    /// Reads `assets.json` in `site_root`. A site that was not built has no
    /// file: the pages are then served without their bundle (and say so in
    /// the log at start-up).
    pub fn load(site_root: &str) -> Result<Self, String> {
        let path = std::path::Path::new(site_root).join("assets.json");
        let text = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", path.display()))
    }

    /// A bundle's path under `pkg/`, without `.js` (what Leptos' hydration
    /// script is given), or `None` when the site was not built.
    pub fn bundle(&self, bundle: Bundle) -> Option<&str> {
        let name = match bundle {
            Bundle::Customer => &self.customer,
            Bundle::Staff => &self.staff,
        };
        name.strip_prefix("pkg/")
    }

    /// The stylesheet's address (`/pkg/switchboard-<hash>.css`), or `None`
    /// when the site was not built.
    pub fn stylesheet_href(&self) -> Option<String> {
        (!self.stylesheet.is_empty()).then(|| format!("/{}", self.stylesheet))
    }

    /// The stylesheet's `<link>` for the pages written by hand (the API
    /// reference, "return to your place").
    pub fn stylesheet_link(&self) -> String {
        self.stylesheet_href().map(|href| format!(r#"<link rel="stylesheet" href="{href}">"#)).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customer_pages_load_the_customer_bundle() {
        assert_eq!(Bundle::for_path("/"), Bundle::Customer);
        assert_eq!(Bundle::for_path("/widget"), Bundle::Customer);
        for path in ["/rep", "/login", "/admin", "/admin/queues", "/supervisor", "/nowhere", "/widgets"] {
            assert_eq!(Bundle::for_path(path), Bundle::Staff, "{path}");
        }
    }

    #[test]
    fn names_are_read_from_the_built_site() {
        let folder = tempfile::tempdir().unwrap();
        assert!(Assets::load(folder.path().to_str().unwrap()).is_err());
        std::fs::write(
            folder.path().join("assets.json"),
            r#"{"customer": "pkg/customer-0a1b/customer", "staff": "pkg/staff-2c3d/staff", "stylesheet": "pkg/switchboard-4e5f.css"}"#,
        )
        .unwrap();
        let assets = Assets::load(folder.path().to_str().unwrap()).unwrap();
        assert_eq!(assets.bundle(Bundle::Customer), Some("customer-0a1b/customer"));
        assert_eq!(assets.bundle(Bundle::Staff), Some("staff-2c3d/staff"));
        assert_eq!(assets.stylesheet_href().as_deref(), Some("/pkg/switchboard-4e5f.css"));
        assert_eq!(Assets::default().bundle(Bundle::Customer), None);
        assert_eq!(Assets::default().stylesheet_href(), None);
    }
}
