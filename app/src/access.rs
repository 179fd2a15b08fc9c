//! Who may open which part of the site. One table, read both by the server's
//! gate in front of every page (which answers the HTTP status) and by the
//! pages themselves (which show the matching view after in-app navigation).

use crate::model::Role;

/// A part of the site that needs a signed-in representative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `/rep`: any role.
    Rep,
    /// `/supervisor`: supervisors and admins.
    Supervisor,
    /// `/admin` and below: admins.
    Admin,
}

impl Area {
    /// The area a path belongs to, or `None` for public pages.
    pub fn for_path(path: &str) -> Option<Area> {
        let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
        if under("/rep") {
            Some(Area::Rep)
        } else if under("/supervisor") {
            Some(Area::Supervisor)
        } else if under("/admin") {
            Some(Area::Admin)
        } else {
            None
        }
    }

    pub fn allows(self, role: Role) -> bool {
        match self {
            Area::Rep => true,
            Area::Supervisor => role >= Role::Supervisor,
            Area::Admin => role == Role::Admin,
        }
    }
}

/// Where to go after signing in: only a path on this site, so a crafted link
/// cannot send someone to another site (an open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/rep".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_areas() {
        assert_eq!(Area::for_path("/rep"), Some(Area::Rep));
        assert_eq!(Area::for_path("/rep/x"), Some(Area::Rep));
        assert_eq!(Area::for_path("/report"), None);
        assert_eq!(Area::for_path("/admin/people"), Some(Area::Admin));
        assert_eq!(Area::for_path("/supervisor"), Some(Area::Supervisor));
        assert_eq!(Area::for_path("/"), None);
        assert_eq!(Area::for_path("/login"), None);
    }

    #[test]
    fn roles_open_their_areas() {
        assert!(Area::Rep.allows(Role::Agent));
        assert!(!Area::Supervisor.allows(Role::Agent));
        assert!(Area::Supervisor.allows(Role::Supervisor));
        assert!(Area::Supervisor.allows(Role::Admin));
        assert!(!Area::Admin.allows(Role::Supervisor));
        assert!(Area::Admin.allows(Role::Admin));
    }

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/admin/people")), "/admin/people");
        assert_eq!(safe_next(Some("//evil.example")), "/rep");
        assert_eq!(safe_next(Some("https://evil.example")), "/rep");
        assert_eq!(safe_next(Some("/\\evil.example")), "/rep");
        assert_eq!(safe_next(None), "/rep");
    }
}
