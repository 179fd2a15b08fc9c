//! The customer side in the customer's language: every text is a Fluent
//! message in `app/locales/<language>/customer.ftl`.
//!
//! The server resolves Fluent (fluent-templates); the browser never does.
//! A page carries the messages of its language as plain text (`Texts`,
//! written into the page's head and read back before hydration), so the
//! browser shows the same words the server rendered without the Fluent
//! runtime, which would add 38 kB to a customer's first visit (measured).
//! Texts with variables are formatted by the server and sent as text.

use std::collections::HashMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::language::Language;

/// The page's messages, by id, in the language the page is in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Texts {
    /// The language of these texts (`<html lang>`): the customer's, or
    /// English when the customer's has no translation.
    pub language: Option<Language>,
    messages: HashMap<String, String>,
}

/// The id of the element of the page's head that carries its texts.
pub const TEXTS_ELEMENT: &str = "switchboard-texts";

impl Texts {
    /// The text of message `id`; the id itself when there is none (a
    /// test fails on any id missing from English).
    pub fn get(&self, id: &str) -> String {
        self.messages.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    /// The texts the server wrote into this page (hydration).
    #[cfg(feature = "hydrate")]
    pub fn from_page() -> Self {
        web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.get_element_by_id(TEXTS_ELEMENT))
            .and_then(|element| element.text_content())
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }
}

/// The text of message `id` in the page's language.
pub fn t(id: &str) -> String {
    use_context::<Texts>().unwrap_or_default().get(id)
}

#[cfg(feature = "ssr")]
mod server {
    use std::collections::HashMap;

    use fluent_templates::{LanguageIdentifier, Loader};

    use super::Texts;
    use crate::language::Language;

    fluent_templates::static_loader! {
        static LOCALES = {
            locales: "./locales",
            fallback_language: "en",
            // No invisible isolation marks around variables: the texts
            // are compared and searched as people read them.
            customise: |bundle| bundle.set_use_isolating(false),
        };
    }

    /// English's messages: what every language has.
    const ENGLISH: &str = include_str!("../locales/en/customer.ftl");

    /// The ids of the messages of a Fluent file (terms and comments left out).
    pub fn message_ids(source: &str) -> Vec<String> {
        let resource = fluent_syntax::parser::parse(source).unwrap_or_else(|(resource, _)| resource);
        resource
            .body
            .iter()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(message) => Some(message.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    fn identifier(language: Language) -> LanguageIdentifier {
        language.as_str().parse().unwrap_or_default()
    }

    /// Whether `language` has a translation of its own.
    fn translated(language: Language) -> bool {
        let id = identifier(language);
        LOCALES.locales().any(|known| *known == id)
    }

    /// Every language's texts, resolved once (not on each page).
    static ALL: std::sync::LazyLock<HashMap<Language, Texts>> = std::sync::LazyLock::new(|| {
        let ids = message_ids(ENGLISH);
        Language::ALL
            .into_iter()
            .map(|language| {
                let language = if translated(language) { language } else { Language::English };
                let id = identifier(language);
                let messages = ids.iter().map(|key| (key.clone(), LOCALES.lookup(&id, key))).collect();
                (language, Texts { language: Some(language), messages })
            })
            .collect()
    });

    impl Texts {
        /// Every message, in `language` (English where it has none).
        pub fn for_language(language: Language) -> Self {
            let language = if translated(language) { language } else { Language::English };
            ALL.get(&language).cloned().unwrap_or_default()
        }

        /// The texts as the page's head carries them: JSON that cannot end
        /// the element it is in.
        pub fn to_page_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default().replace('<', "\\u003c")
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_language_folder_has_every_english_message() {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
            let english = message_ids(ENGLISH);
            for folder in std::fs::read_dir(&root).expect("app/locales") {
                let folder = folder.expect("a folder").path();
                let file = folder.join("customer.ftl");
                let source = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{} is missing", file.display()));
                let ids = message_ids(&source);
                let missing: Vec<&String> = english.iter().filter(|id| !ids.contains(id)).collect();
                assert!(missing.is_empty(), "{} lacks {missing:?}", file.display());
                let name = folder.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
                assert!(Language::parse(&name).is_ok(), "{name} is no language of the customer side");
            }
        }

        #[test]
        fn a_language_without_a_translation_gets_english() {
            for language in Language::ALL.into_iter().filter(|language| !translated(*language)) {
                let texts = Texts::for_language(language);
                assert_eq!(texts.language, Some(Language::English));
                assert_eq!(texts.get("form-name"), "Your name");
            }
            let english = Texts::for_language(Language::English);
            assert_eq!(english.get("no-such-message"), "no-such-message");
            assert!(!english.to_page_json().contains('<'));
        }
    }
}
