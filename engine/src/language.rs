//! The languages the customer side speaks: the customer's own, kept on
//! their help session so the representative sees it.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::AppError;

/// A language of the customer side, by its BCP 47 tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum Language {
    #[serde(rename = "en")]
    English,
    #[serde(rename = "de")]
    German,
    #[serde(rename = "fr")]
    French,
    #[serde(rename = "es")]
    Spanish,
    #[serde(rename = "pt-BR")]
    BrazilianPortuguese,
    #[serde(rename = "ar")]
    Arabic,
}

impl Language {
    pub const ALL: [Language; 6] = [
        Language::English,
        Language::German,
        Language::French,
        Language::Spanish,
        Language::BrazilianPortuguese,
        Language::Arabic,
    ];

    /// The BCP 47 tag (`lang` in HTML, the `.ftl` folder's name).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
            Language::French => "fr",
            Language::Spanish => "es",
            Language::BrazilianPortuguese => "pt-BR",
            Language::Arabic => "ar",
        }
    }

    /// The language's name in itself, as a language menu lists it.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::German => "Deutsch",
            Language::French => "Français",
            Language::Spanish => "Español",
            Language::BrazilianPortuguese => "Português (Brasil)",
            Language::Arabic => "العربية",
        }
    }

    /// Written right to left (`dir="rtl"`).
    pub fn right_to_left(self) -> bool {
        self == Language::Arabic
    }

    /// The tag as given, in any case (`pt-br` is `pt-BR`).
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let raw = raw.trim();
        Language::ALL.into_iter().find(|language| language.as_str().eq_ignore_ascii_case(raw)).ok_or_else(|| {
            let known: Vec<&str> = Language::ALL.iter().map(|language| language.as_str()).collect();
            AppError::invalid(format!("Language must be one of {}, not \"{raw}\".", known.join(", ")))
        })
    }

    /// The best of these languages for an `Accept-Language` header: the
    /// first the reader accepts (by weight), by full tag or by its
    /// language alone (`de-AT` is German, `pt-PT` Brazilian Portuguese);
    /// `None` when they accept none of them.
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut wanted: Vec<(f32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(at, part)| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let weight = pieces
                    .find_map(|piece| piece.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (!tag.is_empty() && weight > 0.0).then_some((weight, at, tag))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        wanted.into_iter().find_map(|(_, _, tag)| {
            let primary = |tag: &str| tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
            Language::parse(tag)
                .ok()
                .or_else(|| Language::ALL.into_iter().find(|language| primary(language.as_str()) == primary(tag)))
        })
    }
}

crate::states::sql_text!(Language);

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Language;

    #[test]
    fn the_readers_first_accepted_language_is_chosen() {
        assert_eq!(Language::from_accept_language("de-DE,de;q=0.9,en;q=0.8"), Some(Language::German));
        assert_eq!(Language::from_accept_language("en;q=0.5, ar"), Some(Language::Arabic));
        assert_eq!(Language::from_accept_language("pt-PT"), Some(Language::BrazilianPortuguese));
        assert_eq!(Language::from_accept_language("nl, fr-CA;q=0.7"), Some(Language::French));
        assert_eq!(Language::from_accept_language("nl, *;q=0"), None);
        assert_eq!(Language::from_accept_language(""), None);
        assert_eq!(Language::from_accept_language("es;q=abc, de;q=0.1"), Some(Language::German));
    }

    #[test]
    fn tags_parse_in_any_case() {
        assert_eq!(Language::parse("PT-br").unwrap(), Language::BrazilianPortuguese);
        assert!(Language::parse("klingon").is_err());
    }
}
