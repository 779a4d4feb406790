//! Facts about addresses: robots and role accounts, free-mail domains, and which domains
//! belong to the same organisation.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Role and robot addresses that are never prospects, by local part (before '@'): whole
/// names, and `prefix*` / `*suffix` patterns (see `robots.txt`).
struct Robots {
    exact: HashSet<String>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

fn robots() -> &'static Robots {
    static LIST: OnceLock<Robots> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = Robots {
            exact: HashSet::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
        };
        for entry in include_str!("robots.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            if let Some(prefix) = entry.strip_suffix('*') {
                list.prefixes.push(prefix.to_string());
            } else if let Some(suffix) = entry.strip_prefix('*') {
                list.suffixes.push(suffix.to_string());
            } else {
                list.exact.insert(entry.to_string());
            }
        }
        list
    })
}

/// True for addresses that no person reads: noreply@, mailer-daemon@, notifications@, …
pub fn is_robot(address: &str) -> bool {
    let local = local_part(address);
    let base = local.split(['+']).next().unwrap_or(&local).to_string();
    let list = robots();
    list.exact.contains(&base)
        || list.prefixes.iter().any(|p| base.starts_with(p.as_str()))
        || list.suffixes.iter().any(|s| base.ends_with(s.as_str()))
}

/// The part before '@', lower-case.
pub fn local_part(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(address)
        .to_ascii_lowercase()
}

/// The part after '@', lower-case, without a trailing dot.
pub fn domain(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// The shipped free-mail list: exact domains, and names valid under any top-level domain.
struct Freemail {
    exact: HashSet<String>,
    any_tld: HashSet<String>,
}

fn freemail() -> &'static Freemail {
    static LIST: OnceLock<Freemail> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list = Freemail {
            exact: HashSet::new(),
            any_tld: HashSet::new(),
        };
        for entry in include_str!("freemail.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            match entry.strip_suffix(".*") {
                Some(name) => list.any_tld.insert(name.to_string()),
                None => list.exact.insert(entry.to_string()),
            };
        }
        list
    })
}

/// True for free-mail domains (gmail.com, hotmail.no, gmx.de, online.no, …).
pub fn is_freemail(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    let list = freemail();
    if list.exact.contains(&domain) {
        return true;
    }
    // "hotmail.no" and "hotmail.co.uk", not "hotmail.example.com".
    let Some((name, tld)) = domain.split_once('.') else {
        return false;
    };
    list.any_tld.contains(name)
        && (!tld.contains('.') || (tld.starts_with("co.") && tld.matches('.').count() == 1))
}

/// Suffixes under which every name is a separate organisation's mail tenant, beside the
/// Public Suffix List: `contoso.onmicrosoft.com` and `fabrikam.onmicrosoft.com` are two
/// customers of one mail host, not one organisation.
/// Each suffix with the one its tenants are known by (`contoso.mail.onmicrosoft.com` is
/// Contoso's routing domain beside `contoso.onmicrosoft.com`); longer suffixes first.
const TENANT_SUFFIXES: &[(&str, &str)] = &[
    ("mail.onmicrosoft.com", "onmicrosoft.com"),
    ("onmicrosoft.com", "onmicrosoft.com"),
];

/// The organisation's domain, the registrable domain by the Public Suffix List:
/// `sales.fjordkraft.no` → `fjordkraft.no`, `mail.thamesbuild.co.uk` → `thamesbuild.co.uk`,
/// `bergen.kommune.no` stays itself (and is not `voss.kommune.no`).
pub fn organisation_domain(domain: &str) -> String {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    for (suffix, known_as) in TENANT_SUFFIXES {
        if let Some(rest) = domain.strip_suffix(&format!(".{suffix}")) {
            let tenant = rest.rsplit('.').next().unwrap_or(rest);
            return format!("{tenant}.{known_as}");
        }
    }
    match psl::domain_str(&domain) {
        Some(registrable) => registrable.to_string(),
        None => domain,
    }
}

/// True when `domain` is a public suffix ("no", "kommune.no", "co.uk"): no organisation's
/// own, by the Public Suffix List (or not a domain it can read).
pub fn is_public_suffix(domain: &str) -> bool {
    psl::domain_str(&domain.trim_end_matches('.').to_ascii_lowercase()).is_none()
}

/// True when two addresses belong to the same organisation (never for free-mail domains).
pub fn same_organisation(a: &str, b: &str) -> bool {
    let (da, db) = (domain(a), domain(b));
    if da.is_empty() || db.is_empty() || is_freemail(&da) || is_freemail(&db) {
        return false;
    }
    organisation_domain(&da) == organisation_domain(&db)
}

/// Matches an address against a pattern with `*` (any run) and `?` (one character).
pub fn matches_pattern(pattern: &str, address: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let a: Vec<char> = address.to_lowercase().chars().collect();
    let (mut pi, mut ai) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ai < a.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == a[ai]) {
            pi += 1;
            ai += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ai;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ai = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots() {
        for a in [
            "noreply@example.com",
            "no-reply@accounts.example.com",
            "DoNotReply@x.no",
            "MAILER-DAEMON@mx.example.com",
            "postmaster@example.se",
            "notifications@github.com",
            "noreply+abc@x.com",
            "news-noreply@x.dk",
            "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com",
        ] {
            assert!(is_robot(a), "{a}");
        }
        for a in [
            "ingrid.berg@fjordkraft.no",
            "info@fjordkraft.no",
            "noah@example.com",
        ] {
            assert!(!is_robot(a), "{a}");
        }
    }

    #[test]
    fn freemail_domains() {
        for d in [
            "gmail.com",
            "hotmail.no",
            "hotmail.co.uk",
            "gmx.de",
            "yahoo.se",
            "online.no",
            "live.dk",
        ] {
            assert!(is_freemail(d), "{d}");
        }
        for d in [
            "fjordkraft.no",
            "hotmailer.com",
            "nordichandel.se",
            "gmail.com.evil.example",
        ] {
            assert!(!is_freemail(d), "{d}");
        }
    }

    #[test]
    fn organisations() {
        assert!(same_organisation(
            "ingrid@fjordkraft.no",
            "per@sales.fjordkraft.no"
        ));
        assert!(same_organisation(
            "a@mail.thamesbuild.co.uk",
            "b@thamesbuild.co.uk"
        ));
        assert!(!same_organisation("a@thamesbuild.co.uk", "b@other.co.uk"));
        assert!(!same_organisation(
            "ola.hansen@gmail.com",
            "kari.hansen@gmail.com"
        ));
        assert!(!same_organisation("a@", "b@x.no"));
        assert!(!same_organisation(
            "anne@bergen.kommune.no",
            "ole@voss.kommune.no"
        ));
        assert!(same_organisation(
            "anne@bergen.kommune.no",
            "per@skole.bergen.kommune.no"
        ));
        assert!(!same_organisation(
            "a@contoso.onmicrosoft.com",
            "b@fabrikam.onmicrosoft.com"
        ));
        assert!(same_organisation(
            "a@contoso.onmicrosoft.com",
            "b@contoso.mail.onmicrosoft.com"
        ));
        assert_eq!(
            organisation_domain("bergen.kommune.no"),
            "bergen.kommune.no"
        );
        assert_eq!(organisation_domain("sales.fjordkraft.no"), "fjordkraft.no");
        assert_eq!(organisation_domain("x.y.example.com.au"), "example.com.au");
    }

    #[test]
    fn patterns() {
        assert!(matches_pattern(
            "*@newsletter.example.com",
            "news@newsletter.example.com"
        ));
        assert!(!matches_pattern(
            "*@newsletter.example.com",
            "news@example.com"
        ));
        assert!(matches_pattern("sales-?@x.no", "SALES-1@x.no"));
        assert!(matches_pattern("*", "anything@x"));
        assert!(!matches_pattern("a*b", "acbd"));
    }
}
