//! Word lists for realistic-looking names. Combining short lists gives enough variety for
//! hundreds of thousands of customers while keeping the binary small; uniqueness where the
//! schema needs it (domains, hostnames) is enforced by the generator, not by these lists.

use rand::Rng;
use rand::seq::IndexedRandom;

/// First word of a company name.
pub const COMPANY_HEADS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Soylent",
    "Massive",
    "Aperture",
    "Black Mesa",
    "Oscorp",
    "Pied Piper",
    "Dunder",
    "Gringotts",
    "Monarch",
    "Nakatomi",
    "Octan",
    "Prestige",
    "Sirius",
    "Virtucon",
    "Weyland",
    "Zorg",
    "Blue Sun",
    "Bluth",
    "Buy n Large",
    "Cogswell",
    "Duff",
    "Ecumena",
    "Gekko",
    "Genco",
    "Ingen",
    "Kruger",
    "Lacuna",
    "Mooby",
    "Nordic",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Woodgrove",
    "Proseware",
    "Fourth Coffee",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Lucerne",
    "Margie",
    "Trey",
    "Wingtip",
    "Wide World",
    "Atlas",
    "Borealis",
    "Cascade",
    "Delta",
    "Everest",
    "Falcon",
    "Granite",
    "Harbor",
    "Ion",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orion",
    "Pinnacle",
    "Quantum",
    "Redwood",
    "Summit",
    "Titan",
    "Unity",
    "Vertex",
    "Willow",
    "Xenon",
    "Yellowstone",
    "Zenith",
    "Aurora",
    "Beacon",
    "Cobalt",
    "Drift",
    "Ember",
    "Fjord",
    "Glacier",
    "Helix",
    "Indigo",
    "Jade",
    "Kestrel",
    "Lattice",
    "Mosaic",
    "Nova",
    "Onyx",
    "Polar",
    "Quill",
    "Raven",
    "Sable",
    "Tundra",
    "Umber",
    "Vista",
    "Wren",
    "Yarrow",
    "Zephyr",
    "Apex",
    "Bolt",
    "Crest",
    "Dune",
];

/// Optional second word of a company name.
pub const COMPANY_TAILS: &[&str] = &[
    "",
    "",
    "",
    "Systems",
    "Dynamics",
    "Industries",
    "Labs",
    "Software",
    "Networks",
    "Analytics",
    "Solutions",
    "Technologies",
    "Digital",
    "Logistics",
    "Energy",
    "Health",
    "Capital",
    "Robotics",
    "Media",
    "Foods",
    "Motors",
    "Aerospace",
    "Bank",
    "Insurance",
    "Pharma",
    "Cloud",
    "Data",
    "Security",
    "Telecom",
    "Retail",
    "Games",
    "Biotech",
    "Consulting",
    "Partners",
    "Holdings",
    "Group",
    "Works",
    "Ventures",
    "Research",
    "Manufacturing",
    "Mining",
    "Shipping",
];

/// Legal-form suffix; the top-level domain is chosen to match where it makes sense.
pub const COMPANY_SUFFIXES: &[(&str, &str, &str)] = &[
    // (suffix, country code, top-level domain)
    ("Inc", "US", "com"),
    ("Inc", "US", "io"),
    ("LLC", "US", "com"),
    ("Corp", "US", "com"),
    ("Corporation", "US", "com"),
    ("Ltd", "GB", "co.uk"),
    ("Ltd", "GB", "com"),
    ("PLC", "GB", "com"),
    ("GmbH", "DE", "de"),
    ("AG", "DE", "de"),
    ("GmbH", "AT", "at"),
    ("AG", "CH", "ch"),
    ("SA", "FR", "fr"),
    ("SAS", "FR", "fr"),
    ("SA", "ES", "es"),
    ("SpA", "IT", "it"),
    ("BV", "NL", "nl"),
    ("NV", "BE", "be"),
    ("AB", "SE", "se"),
    ("AS", "NO", "no"),
    ("Oy", "FI", "fi"),
    ("A/S", "DK", "dk"),
    ("Sp. z o.o.", "PL", "pl"),
    ("KK", "JP", "co.jp"),
    ("Pty Ltd", "AU", "com.au"),
    ("Ltd", "CA", "ca"),
    ("Pte Ltd", "SG", "sg"),
    ("Ltda", "BR", "com.br"),
    ("Pvt Ltd", "IN", "in"),
    ("Ltd", "IE", "ie"),
];

pub const FIRST_NAMES: &[&str] = &[
    "Jane", "John", "Maria", "Ahmed", "Wei", "Olga", "Carlos", "Priya", "Lukas", "Sofia", "Kenji",
    "Amara", "Liam", "Emma", "Noah", "Olivia", "Mateo", "Chloe", "Yusuf", "Ingrid", "Pierre",
    "Anna", "Tomasz", "Elena", "Raj", "Fatima", "Hiroshi", "Grace", "David", "Sara", "Jonas",
    "Leila", "Marco", "Nina", "Omar", "Paula", "Quentin", "Rosa", "Stefan", "Tara", "Uma",
    "Victor", "Wanda", "Xavier", "Yara", "Zoe", "Ben", "Clara", "Diego", "Eva",
];

pub const LAST_NAMES: &[&str] = &[
    "Doe",
    "Smith",
    "Garcia",
    "Muller",
    "Chen",
    "Ivanova",
    "Rossi",
    "Patel",
    "Schmidt",
    "Kim",
    "Tanaka",
    "Okafor",
    "Johnson",
    "Brown",
    "Martin",
    "Dubois",
    "Nowak",
    "Silva",
    "Kowalski",
    "Andersson",
    "Nielsen",
    "Novak",
    "Horvat",
    "Jansen",
    "Peeters",
    "Murphy",
    "Walsh",
    "Lopez",
    "Fernandez",
    "Costa",
    "Yilmaz",
    "Haddad",
    "Sato",
    "Nguyen",
    "Singh",
    "Khan",
    "Cohen",
    "Weber",
    "Fischer",
    "Moreau",
    "Laurent",
    "Bianchi",
    "Romano",
    "Berg",
    "Lindqvist",
    "Virtanen",
];

/// Legal forms stripped when deriving a domain from a company name.
fn is_legal_form(word: &str) -> bool {
    COMPANY_SUFFIXES
        .iter()
        .any(|(suffix, _, _)| suffix.eq_ignore_ascii_case(word))
}

/// Lower-case ASCII letters and digits only: the part of a domain made from a name.
pub fn slug(name: &str) -> String {
    name.split_whitespace()
        .filter(|word| !is_legal_form(word))
        .flat_map(|word| word.chars())
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A random company: (name, country code, top-level domain, domain base without the TLD).
pub struct Company {
    pub name: String,
    pub country: &'static str,
    pub tld: &'static str,
    pub base: String,
}

pub fn company<R: Rng>(rng: &mut R) -> Company {
    let head = COMPANY_HEADS.choose(rng).copied().unwrap_or("Acme");
    let tail = COMPANY_TAILS.choose(rng).copied().unwrap_or("");
    let (suffix, country, tld) = COMPANY_SUFFIXES
        .choose(rng)
        .copied()
        .unwrap_or(("Inc", "US", "com"));
    let core = if tail.is_empty() {
        head.to_string()
    } else {
        format!("{head} {tail}")
    };
    Company {
        base: slug(&core),
        name: format!("{core} {suffix}"),
        country,
        tld,
    }
}

/// A random person: (display name, e-mail local part).
pub fn person<R: Rng>(rng: &mut R) -> (String, String) {
    let first = FIRST_NAMES.choose(rng).copied().unwrap_or("Jane");
    let last = LAST_NAMES.choose(rng).copied().unwrap_or("Doe");
    (
        format!("{first} {last}"),
        format!(
            "{}.{}",
            first.to_ascii_lowercase(),
            last.to_ascii_lowercase()
        ),
    )
}

/// `count` lower-case hexadecimal digits.
pub fn hex<R: Rng>(rng: &mut R, count: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..count)
        .map(|_| char::from(DIGITS[rng.random_range(0..16)]))
        .collect()
}

/// A Salesforce-style 18-character account id. The counter makes it unique; the rest is noise
/// in Salesforce's alphabet so ids look real.
pub fn salesforce_id<R: Rng>(rng: &mut R, unique: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..5)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    // "001" (account prefix) + 10 digits + 5 mixed characters = 18.
    format!("001{unique:010}{tail}")
}

/// A random RFC 4122 version-4 UUID, formatted like the ones GitLab instances send.
pub fn uuid<R: Rng>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_drops_legal_forms_and_punctuation() {
        assert_eq!(slug("Acme Inc"), "acme");
        assert_eq!(slug("Buy n Large GmbH"), "buynlarge");
        assert_eq!(slug("Pied Piper"), "piedpiper");
    }

    #[test]
    fn salesforce_ids_have_18_characters() {
        let mut rng = rand::rng();
        assert_eq!(salesforce_id(&mut rng, 42).len(), 18);
        assert_eq!(uuid(&mut rng).len(), 36);
    }
}
