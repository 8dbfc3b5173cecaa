//! Text for people, in Simplified Chinese or English, through Project
//! Fluent. Every string a person reads — on the board, in the service
//! report, in an error — comes from the message files `core/messages/`,
//! one per language, compiled in. A message missing from Chinese falls back
//! to English (the board test finds those); one missing from English shows
//! its id.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use unic_langid::LanguageIdentifier;

/// A language Fieldwork speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::ZhCn, Language::En];

    /// The BCP 47 tag: `zh-CN`, `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::ZhCn => "zh-CN",
            Language::En => "en",
        }
    }

    /// A tag Fieldwork speaks (`zh-CN`, `zh`, `zh-Hans`, `en`, `en-GB`…), or `None`.
    pub fn from_tag(tag: &str) -> Option<Language> {
        let id: LanguageIdentifier = tag.trim().parse().ok()?;
        match id.language.as_str() {
            "zh" => match id.region.as_ref().map(|r| r.as_str()) {
                // Traditional-script regions are not Simplified Chinese.
                Some("TW" | "HK" | "MO") if id.script.is_none() => None,
                _ if id.script.is_some_and(|s| s.as_str() == "Hant") => None,
                _ => Some(Language::ZhCn),
            },
            "en" => Some(Language::En),
            _ => None,
        }
    }

    /// The exact tag a setting must hold (`zh-CN` or `en`).
    pub fn parse_setting(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The best of an `Accept-Language` header, by its quality values; `None`
    /// when it names nothing Fieldwork speaks.
    pub fn negotiate(accept_language: &str) -> Option<Language> {
        let mut offered: Vec<(f32, usize, Language)> = accept_language
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut bits = part.split(';');
                let tag = bits.next()?.trim();
                let q = bits
                    .find_map(|b| b.trim().strip_prefix("q="))
                    .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
                (q > 0.0).then_some((q, i, Language::from_tag(tag)?))
            })
            .collect();
        offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|o| o.2)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

const EN: &str = include_str!("../../messages/en.ftl");
const ZH_CN: &str = include_str!("../../messages/zh-CN.ftl");

type Bundle = FluentBundle<FluentResource>;

fn build(lang: Language, source: &'static str) -> Bundle {
    let id: LanguageIdentifier = lang.tag().parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Plain text: the board escapes it, the report hashes it.
    bundle.set_use_isolating(false);
    // The message files are compiled in and checked by the tests below; a
    // syntax error there keeps the entries that did parse.
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    let _ = bundle.add_resource(resource);
    bundle
}

fn bundle(lang: Language) -> &'static Bundle {
    static EN_B: OnceLock<Bundle> = OnceLock::new();
    static ZH_B: OnceLock<Bundle> = OnceLock::new();
    match lang {
        Language::En => EN_B.get_or_init(|| build(Language::En, EN)),
        Language::ZhCn => ZH_B.get_or_init(|| build(Language::ZhCn, ZH_CN)),
    }
}

/// An argument of a message.
pub type Arg<'a> = (&'a str, FluentValue<'a>);

/// Whether `lang`'s own file holds message `id`.
pub fn has(lang: Language, id: &str) -> bool {
    bundle(lang).has_message(id)
}

/// Message `id` (or `id.attribute`) in `lang`, with `args`.
pub fn text(lang: Language, id: &str, args: &[Arg<'_>]) -> String {
    let (msg_id, attr) = match id.split_once('.') {
        Some((m, a)) => (m, Some(a)),
        None => (id, None),
    };
    for l in [lang, Language::En] {
        let b = bundle(l);
        let Some(msg) = b.get_message(msg_id) else {
            continue;
        };
        let pattern = match attr {
            Some(a) => msg.get_attribute(a).map(|a| a.value()),
            None => msg.value(),
        };
        let Some(pattern) = pattern else { continue };
        let mut fargs = FluentArgs::new();
        for (k, v) in args {
            fargs.set(*k, v.clone());
        }
        let mut errors = Vec::new();
        return b
            .format_pattern(pattern, Some(&fargs), &mut errors)
            .into_owned();
    }
    id.to_string()
}

/// Message `id` in `lang` without arguments.
pub fn t(lang: Language, id: &str) -> String {
    text(lang, id, &[])
}

/// Money as the language writes it: `¥1,234.50` in Chinese, `CN¥1,234.50`
/// in English for yuan; other currencies by their code.
pub fn money(lang: Language, currency: &str, minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    // Currencies without a minor unit count in whole units.
    let scale = if matches!(currency, "JPY" | "KRW" | "VND") {
        1
    } else {
        100
    };
    let (units, cents) = (abs / scale, abs % scale);
    let digits = units.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let symbol = match (currency, lang) {
        ("CNY", Language::ZhCn) => "¥".to_string(),
        ("CNY", Language::En) => "CN¥".to_string(),
        ("USD", Language::En) => "$".to_string(),
        ("USD", Language::ZhCn) => "US$".to_string(),
        ("EUR", _) => "€".to_string(),
        (code, _) => format!("{code}\u{a0}"),
    };
    if scale == 1 {
        format!("{sign}{symbol}{grouped}")
    } else {
        format!("{sign}{symbol}{grouped}.{cents:02}")
    }
}

/// Texts the core writes into documents (a warranty decision's reason, a
/// lifecycle step's note), in English as stored, and their messages. `{x}`
/// is the one value a text holds (a date, a SKU).
const STORED: &[(&str, &str)] = &[
    ("stored-no-purchase-date", "no purchase date: paid repair"),
    (
        "stored-proof-not-checked",
        "proof of purchase not checked: paid repair",
    ),
    ("stored-misuse", "fault caused by misuse: paid repair"),
    ("stored-warranty-ended", "warranty ended {x}: paid repair"),
    (
        "stored-in-warranty-until",
        "in warranty until {x}: free repair",
    ),
    ("stored-waiting-for", "waiting for {x}"),
    ("stored-refused-to-sign", "customer refused to sign"),
    (
        "stored-unsatisfied-at-completion",
        "unsatisfied at completion",
    ), // Why a rule refused (a rule error's `why`, `what` and `kind`).
    (
        "why-photos-on-open-orders",
        "photos are attached to open orders",
    ),
    (
        "why-finished-cannot-be-assigned",
        "a finished order cannot be assigned",
    ),
    (
        "why-assign-before-dispatch",
        "assign an engineer before dispatching",
    ),
    (
        "why-capture-signature-first",
        "capture the customer's signature or refusal first",
    ),
    (
        "why-collect-feedback-first",
        "collect the customer's feedback first",
    ),
    (
        "why-warranty-before-work",
        "decide warranty before starting work",
    ),
    ("why-diagnose-before-work", "diagnose before starting work"),
    ("why-diagnose-before-parts", "diagnose before using parts"),
    (
        "why-diagnose-on-site",
        "diagnose on site (or on the bench for mail-in units)",
    ),
    (
        "why-responsible-and-findings-first",
        "name the responsible party and record the findings first",
    ),
    ("why-not-from-device", "not allowed from a device: {x}"),
    (
        "why-mail-in-skips-visit",
        "only mail-in units skip the visit; record en route and arrival first",
    ),
    (
        "why-parts-while-in-progress",
        "parts are used or ordered while the repair is in progress",
    ),
    ("why-qc-first", "record the QC checklist first"),
    ("why-follow-up-first", "record the follow-up call first"),
    (
        "why-already-rated",
        "the customer has already rated this visit",
    ),
    ("why-order-finished", "the order is finished"),
    ("why-not-mail-in", "the order is not a mail-in repair"),
    (
        "why-sign-again",
        "the signature no longer matches the report; sign again",
    ),
    (
        "why-status-matches-qc",
        "the status must match the latest QC result",
    ),
    (
        "why-supervisor-picks-first",
        "the supervisor picks a resolution first",
    ),
    (
        "why-paid-repair-estimate",
        "the repair is paid; the customer signs acceptance of the estimate before work starts",
    ),
    ("why-not-in-diagnosis", "{x} was not in the diagnosis"),
    ("what-picks-resolution", "picks the resolution"),
    (
        "what-changes-settings",
        "changes the service center's settings",
    ),
    ("consent-paid-service", "paid service"),
    ("consent-extra-parts", "extra parts"),
    ("consent-extra-work", "extra work"),
    ("consent-fee-list", "fee list"),
    (
        "why-extra-fault-found",
        "an extra fault was found during repair",
    ),
];

/// A text the core stored in a document, said in `lang`; text it does not
/// know (typed by a person) comes back as it is.
pub fn stored_text(lang: Language, text: &str) -> String {
    for (id, pattern) in STORED {
        if *pattern == text {
            return t(lang, id);
        }
        if let Some((before, after)) = pattern.split_once("{x}")
            && let Some(x) = text
                .strip_prefix(before)
                .and_then(|r| r.strip_suffix(after))
                .filter(|x| !x.is_empty())
        {
            return self::text(lang, id, &[("x", FluentValue::from(x))]);
        }
    }
    text.to_string()
}

/// Every message id in a language's own file.
pub fn message_ids(lang: Language) -> Vec<String> {
    let source = match lang {
        Language::En => EN,
        Language::ZhCn => ZH_CN,
    };
    let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
    resource
        .entries()
        .filter_map(|e| match e {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

/// "Attested by device … (hardware key)" or "Not attested", in `lang`: how
/// the board and the PDF report say which phone's key signed a record.
pub fn attestation(lang: Language, att: Option<&crate::model::Attestation>) -> String {
    match att {
        Some(a) => text(
            lang,
            "attested-by",
            &[
                ("device", FluentValue::from(a.device.as_str())),
                ("backing", FluentValue::from(a.backing.as_str())),
            ],
        ),
        None => t(lang, "not-attested"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_message_files_parse_and_hold_the_same_messages() {
        for (lang, src) in [(Language::En, EN), (Language::ZhCn, ZH_CN)] {
            let parsed = FluentResource::try_new(src.to_string());
            assert!(parsed.is_ok(), "{lang}: {:?}", parsed.err().map(|e| e.1));
        }
        let en = message_ids(Language::En);
        let zh = message_ids(Language::ZhCn);
        let missing: Vec<_> = en.iter().filter(|m| !zh.contains(m)).collect();
        let extra: Vec<_> = zh.iter().filter(|m| !en.contains(m)).collect();
        assert!(missing.is_empty(), "missing in zh-CN: {missing:?}");
        assert!(extra.is_empty(), "only in zh-CN: {extra:?}");
    }

    #[test]
    fn accept_language_picks_the_best_we_speak() {
        assert_eq!(
            Language::negotiate("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Language::ZhCn)
        );
        assert_eq!(
            Language::negotiate("fr-FR, en-GB;q=0.7, zh;q=0.5"),
            Some(Language::En)
        );
        assert_eq!(
            Language::negotiate("en;q=0.2, zh-Hans"),
            Some(Language::ZhCn)
        );
        assert_eq!(Language::negotiate("zh-TW, fr"), None);
        assert_eq!(Language::negotiate("*"), None);
        assert_eq!(Language::negotiate(""), None);
        assert_eq!(Language::parse_setting("zh-CN"), Some(Language::ZhCn));
        assert_eq!(Language::parse_setting("klingon"), None);
    }

    #[test]
    fn money_as_each_language_writes_it() {
        assert_eq!(money(Language::ZhCn, "CNY", 123_450), "¥1,234.50");
        assert_eq!(money(Language::En, "CNY", 123_450), "CN¥1,234.50");
        assert_eq!(money(Language::En, "CNY", -5), "-CN¥0.05");
        assert_eq!(money(Language::En, "JPY", 1_000), "JPY\u{a0}1,000");
    }

    #[test]
    fn texts_the_core_stored_are_said_in_either_language() {
        let ended = "warranty ended 2027-10-01: paid repair";
        assert_eq!(stored_text(Language::En, ended), ended, "English as stored");
        assert_eq!(
            stored_text(Language::ZhCn, ended),
            "保修已于 2027-10-01 到期：付费维修"
        );
        assert_eq!(
            stored_text(Language::ZhCn, "waiting for RLY"),
            "等待配件 RLY"
        );
        assert_eq!(
            stored_text(Language::ZhCn, "typed by a person"),
            "typed by a person"
        );
        for (id, pattern) in STORED {
            let sample = pattern.replace("{x}", "X");
            assert_eq!(stored_text(Language::En, &sample), sample, "{id}");
        }
    }

    #[test]
    fn plurals_follow_the_language() {
        let n = |n: i64| [("count", FluentValue::from(n))];
        assert_eq!(text(Language::En, "orders-count", &n(1)), "1 order");
        assert_eq!(text(Language::En, "orders-count", &n(3)), "3 orders");
        assert_eq!(text(Language::ZhCn, "orders-count", &n(3)), "3 个工单");
    }
}
