//! The one rule for the characters of text people type (names, reasons,
//! chat, notes, comments, queue names, emails): no NUL or other control
//! characters (line breaks only where the field has lines), and none of the
//! invisible marks that reverse the direction of the text around them
//! (which can make a message read differently from what it says).
//! Lengths stay with each field; [`required`] checks a required one.

use crate::error::AppError;

/// Whether a field holds lines (a line break is allowed) or one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Line,
    Lines,
}

/// Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
/// U+2066–U+2069).
fn reverses_direction(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible marks that make two names look alike or hide text in one:
/// zero-width space and joiners, left-to-right and right-to-left marks
/// (U+200B–U+200F) and the Arabic letter mark (U+061C).
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{061C}')
}

/// Checks `value`'s characters; the message names `field`. A one-line
/// value (a name) holds no line breaks and no invisible marks either.
pub fn check(field: &str, value: &str, shape: Shape) -> Result<(), AppError> {
    let control = |c: char| c.is_control() && !(shape == Shape::Lines && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(control) {
        return Err(AppError::invalid(format!("{field} must not contain control characters.")));
    }
    if value.chars().any(reverses_direction) {
        return Err(AppError::invalid(format!("{field} must not contain characters that reverse the text's direction.")));
    }
    if shape == Shape::Line && value.chars().any(invisible) {
        return Err(AppError::invalid(format!("{field} must not contain invisible characters.")));
    }
    Ok(())
}

/// A required field: trimmed, not empty, at most `max` characters, and
/// passing [`check`].
pub fn required(field: &str, raw: &str, max: usize, shape: Shape) -> Result<String, AppError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(AppError::invalid(format!("{field} is required.")));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(format!("{field} must be at most {max} characters.")));
    }
    check(field, value, shape)?;
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_direction_marks_are_refused() {
        assert!(check("Name", "Ann Lee", Shape::Line).is_ok());
        assert!(check("Note", "two\nlines\ttabbed", Shape::Lines).is_ok());
        assert!(check("Name", "two\nlines", Shape::Line).is_err());
        assert!(check("Note", "nul\0here", Shape::Lines).is_err());
        assert!(check("Note", "bell\u{7}", Shape::Lines).is_err());
        let reversed = check("Message", "pay \u{202E}321\u{202C} now", Shape::Lines).unwrap_err();
        assert_eq!(reversed.to_string(), "Message must not contain characters that reverse the text's direction.");
        assert!(check("Name", "\u{2067}x", Shape::Line).is_err());
        assert!(check("Name", "Zoë Ōtsuka 王", Shape::Line).is_ok());
        for hidden in ["Ann\u{200B}Lee", "Ann\u{200D}", "\u{200E}Ann", "\u{200F}Ann", "Ann\u{061C}"] {
            assert!(check("Name", hidden, Shape::Line).unwrap_err().to_string().contains("invisible"), "{hidden:?}");
        }
    }
}
