//! The board speaks the user's language on every page: a service center's
//! whole day (orders, a visit signed on a phone, a follow-up call, a
//! complaint, a mail-in repair, statistics, settings, refused forms) is
//! visited in Simplified Chinese and fails on any interface text left in
//! English; then in English, failing on any Chinese that is not the
//! customers' own data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::Language;
use fieldwork_core::api::{ComplaintStep, ConsentInput, FollowUpInput, MailInMilestone};
use fieldwork_core::model::*;
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::{BoardClient, chrono_now};
use fieldwork_tests::harness::{Device, Server, TENANT};

fieldwork_tests::conformance!(every_board_page_speaks_chinese_then_english_with_nothing_left_over,);

const PASSWORD: &str = "correct horse battery";

/// What the day's data says in Chinese: the customers' own words, which
/// the English board shows as they are.
const DATA: &[&str] = &[
    "王芳",
    "上海市浦东新区世纪大道 100 号",
    "空调",
    "开机后不制冷",
    "每次开机",
    "两天前",
    "继电器触点烧蚀",
    "继电器",
    "更换继电器",
    "已更换继电器，测试三次",
    "外观",
    "制冷",
    "噪音",
    "费用清单",
    "很好",
    "等待时间长",
    "上门太晚",
    "张工负责",
    "调度延误",
    "赠送一次保养",
    "退还上门费",
    "李雷",
    "寄修客户",
    "屏幕不亮",
    "简体中文",
];

/// Words that are the same in every language: the product, codes people
/// type as they are, the zone's name, the people's names in the directory,
/// and the name of each language in itself.
const NOT_INTERFACE: &[&str] = &[
    "Fieldwork",
    "CSV",
    "PDF",
    "IANA",
    "ISO",
    "YYYY",
    "MM",
    "DD",
    "Asia",
    "Shanghai",
    "English",
    "Zhang",
    "Wei",
    "Li",
    "Na",
    "Desk",
    "acme",
    "desk",
    "eng",
    "SN",
    "KFR",
    "INV",
    "JDQ",
    "E21",
    "zh",
    "CN",
    "en",
];

fn strip_between(s: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        match rest[at..].find(close) {
            Some(end) => rest = &rest[at + end + close.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a person reads on a page: text between tags, and the attributes a
/// browser shows (placeholder, title, aria-label). The service report is
/// left out: it is the document the customer signed, in its own language.
fn readable(html: &str) -> String {
    let html = strip_between(html, "<script", "</script>");
    let html = strip_between(&html, "<style", "</style>");
    let html = strip_between(&html, "<pre class=\"report\"", "</pre>");
    // A CSV's second column is each figure's stable key, for scripts.
    if !html.contains('<') {
        return html
            .lines()
            .map(|l| {
                let fields: Vec<&str> = l.splitn(3, ',').collect();
                match fields.as_slice() {
                    [a, _, rest] => format!("{a},{rest}"),
                    _ => l.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut text = String::new();
    for attr in ["placeholder=\"", "title=\"", "aria-label=\""] {
        for part in html.split(attr).skip(1) {
            text.push_str(part.split('"').next().unwrap_or(""));
            text.push('\n');
        }
    }
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// English words on a Chinese page that are not data.
fn english_left(page: &str, data_words: &[String]) -> Vec<String> {
    let text = readable(page);
    let mut left = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        // Ids (wo-3f2a…, cp-…, device ids) and codes (SN-000001) are data.
        let is_id = token.contains('-') && token.chars().any(|c| c.is_ascii_digit());
        let is_hex = token.len() >= 16 && token.chars().all(|c| c.is_ascii_hexdigit());
        if token.is_empty() || is_id || is_hex {
            continue;
        }
        for word in token.split(['-', '_']) {
            let letters = word.chars().filter(|c| c.is_ascii_alphabetic()).count();
            if letters < 2 || NOT_INTERFACE.contains(&word) || data_words.iter().any(|d| d == word)
            {
                continue;
            }
            left.push(word.to_string());
        }
    }
    left.sort();
    left.dedup();
    left
}

/// Chinese on an English page that is not the day's data.
fn chinese_left(page: &str) -> Vec<String> {
    let mut text = readable(page);
    let mut data: Vec<&str> = DATA.to_vec();
    data.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in data {
        text = text.replace(d, " ");
    }
    text.split_whitespace()
        .filter(|w| {
            w.chars().any(|c| {
                ('\u{4e00}'..='\u{9fff}').contains(&c)
                    || ('\u{3000}'..='\u{303f}').contains(&c)
                    || ('\u{ff00}'..='\u{ffef}').contains(&c)
            })
        })
        .map(str::to_string)
        .collect()
}

fn chinese_intake(name: &str, channel: Channel) -> Intake {
    Intake {
        channel,
        customer: Customer {
            name: name.into(),
            phone: Some("13800138000".into()),
            email: None,
            address: "上海市浦东新区世纪大道 100 号".into(),
            member: true,
        },
        product: Product {
            model: "空调 KFR-35".into(),
            serial: "SN-000001".into(),
            purchase_date: Some("2026-10-01".into()),
            proof_of_purchase: Some("INV-1".into()),
        },
        fault: Fault {
            symptoms: if channel == Channel::MailIn {
                "屏幕不亮".into()
            } else {
                "开机后不制冷".into()
            },
            frequency: Some("每次开机".into()),
            since: Some("两天前".into()),
            environment: None,
            already_tried: None,
        },
        category: Category::ProductQuality,
        priority: Priority::Urgent,
        promised_by_ms: None,
        site_zone: SiteZone::Urban,
    }
}

/// A service center's day in Chinese; returns the ids of the visited order,
/// the waiting one and the mail-in one.
fn a_day(server: &Server, dir: &std::path::Path) -> (String, String, String) {
    let desk = server.state.desk(TENANT, "desk", DeskRole::Supervisor);
    desk.change_settings(&fieldwork_core::SettingsInput {
        language: "zh-CN".into(),
        policy: fieldwork_core::Policy {
            time_zone: "Asia/Shanghai".into(),
            ..fieldwork_core::Policy::default()
        },
    })
    .unwrap();
    desk.upsert_catalog_part(CatalogPart {
        sku: "JDQ".into(),
        name: "继电器".into(),
        unit_price_minor: 4_500,
        low_stock_threshold: 2,
    })
    .unwrap();
    let visited = desk
        .create_order(chinese_intake("王芳", Channel::Phone))
        .unwrap();
    desk.assign(&visited, "eng-a").unwrap();
    let waiting = desk
        .create_order(chinese_intake("李雷", Channel::Phone))
        .unwrap();
    let mail_in = desk
        .create_order(chinese_intake("寄修客户", Channel::MailIn))
        .unwrap();
    desk.record_mail_in(&mail_in, MailInMilestone::Shipped, chrono_now())
        .unwrap();

    let api = fieldwork_tests::harness::Desk::new(
        &server.url,
        &server
            .state
            .directory
            .issue_dispatcher_token(TENANT, "desk")
            .unwrap(),
    )
    .unwrap();
    let home = dir.join("phone");
    std::fs::create_dir_all(&home).unwrap();
    let phone = Device::enrol(server, &api, "eng-a", &home, chrono_now()).unwrap();
    phone.sync.set_online(true);
    phone.sync.sync_now().unwrap();
    let fw = &phone.fw;
    fw.receive_stock("JDQ", 2).unwrap();
    fw.accept(&visited).unwrap();
    fw.en_route(&visited).unwrap();
    phone.clock.advance_ms(10 * 60_000);
    fw.arrive(&visited, None).unwrap();
    fw.diagnose(
        &visited,
        fieldwork_core::api::DiagnosisInput {
            fault_code: "E21".into(),
            kind: FaultKind::Hardware,
            findings: "继电器触点烧蚀".into(),
            planned_parts: vec!["JDQ".into()],
            estimate_minor: 0,
            misuse: false,
        },
    )
    .unwrap();
    fw.decide_warranty(&visited, true, false).unwrap();
    fw.start_work(&visited).unwrap();
    fw.use_part(&visited, "JDQ", 1, true).unwrap();
    fw.add_fee(&visited, FeeKind::Labour, "更换继电器", 9_000)
        .unwrap();
    fw.record_consent(
        &visited,
        ConsentInput {
            kind: ConsentKind::FeeList,
            accepted: true,
            signer_name: "王芳".into(),
            scope: "费用清单".into(),
            parts: vec![],
            strokes: fieldwork_tests::signature(1),
        },
    )
    .unwrap();
    fw.add_note(&visited, "已更换继电器，测试三次").unwrap();
    phone.clock.advance_ms(60 * 60_000);
    fw.mark_repaired(&visited).unwrap();
    let qc = ["外观", "制冷", "噪音"]
        .iter()
        .map(|n| QcItem {
            name: (*n).into(),
            passed: true,
            note: None,
        })
        .collect();
    fw.record_qc(&visited, qc).unwrap();
    fw.capture_signature_in(
        &visited,
        "王芳",
        fieldwork_tests::signature(2),
        Language::ZhCn,
    )
    .unwrap();
    fw.rate(&visited, Rating::Satisfied, Some(5), Some("很好".into()))
        .unwrap();
    phone.sync.sync_now().unwrap();

    // The follow-up call finds the customer unsatisfied: a complaint candidate.
    desk.record_follow_up(
        &visited,
        FollowUpInput {
            reached: true,
            rating: Some(Rating::Unsatisfied),
            aspect: Some("等待时间长".into()),
            comment: None,
        },
    )
    .unwrap();
    let cid = desk
        .register_complaint(&visited, "上门太晚", ComplaintCategory::Timeliness, true)
        .unwrap();
    for step in [
        ComplaintStep::Judge {
            stands: true,
            explanation: None,
        },
        ComplaintStep::Responsible {
            party: "张工负责".into(),
            team: vec!["调度延误".into()],
        },
        ComplaintStep::Investigate {
            findings: "调度延误".into(),
        },
        ComplaintStep::Propose {
            resolutions: vec!["赠送一次保养".into(), "退还上门费".into()],
        },
    ] {
        desk.advance_complaint(&visited, &cid, step).unwrap();
    }
    (visited, waiting, mail_in)
}

/// Every page of the day, and the pages of refused forms.
fn pages(b: &mut BoardClient, ids: &(String, String, String)) -> Vec<(String, String)> {
    let (visited, waiting, mail_in) = ids;
    let mut out = Vec::new();
    for path in [
        "/board".to_string(),
        "/board?breach=soon".into(),
        "/board/intake".into(),
        format!("/board/orders/{visited}"),
        format!("/board/orders/{waiting}"),
        format!("/board/orders/{mail_in}"),
        "/board/orders/wo-missing".into(),
        "/board/follow-ups".into(),
        "/board/complaints".into(),
        "/board/mail-in".into(),
        "/board/stats".into(),
        "/board/stats?period=week".into(),
        "/board/stats.csv".into(),
        "/board/settings".into(),
    ] {
        let p = b.get(&path).unwrap();
        assert!(p.status == 200 || p.status == 404, "{path}: {}", p.status);
        out.push((path, p.body));
    }
    let csrf = b.csrf().unwrap();
    let bad_intake = b
        .post(
            "/board/intake",
            &[
                ("csrf", csrf.as_str()),
                ("customer.email", "not-an-email"),
                ("product.purchase_date", "2099-01-01"),
                ("promised_by", "tomorrow"),
                ("site_zone", "outside_urban"),
                ("travel_allowance_min", "many"),
            ],
        )
        .unwrap();
    assert_eq!(bad_intake.status, 422);
    out.push(("POST /board/intake".into(), bad_intake.body));
    let bad_settings = b
        .post(
            "/board/settings",
            &[("csrf", csrf.as_str()), ("dispatch_limit_min", "x")],
        )
        .unwrap();
    assert_eq!(bad_settings.status, 422);
    out.push(("POST /board/settings".into(), bad_settings.body));
    let bad_assign = b
        .post(
            &format!("/board/orders/{waiting}/assign"),
            &[("csrf", csrf.as_str()), ("engineer", "nobody")],
        )
        .unwrap();
    assert_eq!(bad_assign.status, 422);
    out.push(("POST assign".into(), bad_assign.body));
    let bad_call = b
        .post(
            &format!("/board/orders/{visited}/follow-up"),
            &[("csrf", csrf.as_str()), ("rating", "satisfied")],
        )
        .unwrap();
    out.push(("POST follow-up".into(), bad_call.body));
    out
}

fn every_board_page_speaks_chinese_then_english_with_nothing_left_over(backend: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (server, _desk) = Server::start_on(backend).unwrap();
    server
        .state
        .directory
        .set_password(TENANT, "desk", PASSWORD, true)
        .unwrap();
    let ids = a_day(&server, dir.path());

    // Signed out, the browser's language decides.
    let mut b = BoardClient::new(&server.url).unwrap();
    let sign_in = b
        .get_with(
            "/board/sign-in",
            &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")],
        )
        .unwrap();
    assert!(sign_in.body.contains("lang=\"zh-CN\""));
    assert_eq!(
        english_left(&sign_in.body, &[]),
        Vec::<String>::new(),
        "sign-in"
    );
    assert_eq!(b.sign_in(TENANT, "desk", PASSWORD).unwrap().status, 303);

    // No choice and no browser language: the service center's (zh-CN).
    let board = b.get("/board").unwrap();
    assert!(
        board.body.contains("lang=\"zh-CN\""),
        "the tenant's default"
    );
    let english = b.get_in("/board", "en-GB,en;q=0.9").unwrap();
    assert!(
        english.body.contains("lang=\"en\""),
        "the browser's language"
    );

    // The day in Chinese, chosen by the user.
    let csrf = b.csrf().unwrap();
    assert_eq!(
        b.post(
            "/board/language",
            &[("csrf", csrf.as_str()), ("language", "zh-CN")]
        )
        .unwrap()
        .status,
        303
    );
    let data_words: Vec<String> = DATA
        .iter()
        .flat_map(|d| d.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect();
    let mut missing = Vec::new();
    for (path, body) in pages(&mut b, &ids) {
        let left = english_left(&body, &data_words);
        if !left.is_empty() {
            missing.push(format!("{path}: {left:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "English left on Chinese pages:\n{}",
        missing.join("\n")
    );
    let order = b.get(&format!("/board/orders/{}", ids.0)).unwrap();
    assert!(order.body.contains("签名有效"), "the signature, in Chinese");
    assert!(order.body.contains("¥"), "money as Chinese writes it");

    // The same day in English, chosen by the user (kept with them).
    let csrf = b.csrf().unwrap();
    b.post(
        "/board/language",
        &[("csrf", csrf.as_str()), ("language", "en")],
    )
    .unwrap();
    let kept = b.get_in("/board", "zh-CN").unwrap();
    assert!(
        kept.body.contains("lang=\"en\""),
        "the choice wins over the browser"
    );
    let mut missing = Vec::new();
    for (path, body) in pages(&mut b, &ids) {
        let left = chinese_left(&body);
        if !left.is_empty() {
            missing.push(format!("{path}: {left:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "Chinese left on English pages:\n{}",
        missing.join("\n")
    );
}
