//! The console in a real headless Chromium against a real `simian run` fed by moto: sign in,
//! filter items, open an item and its diff, justify an issue and see it justified, compare two
//! items, export CSV; and a hostile tag shows as text while no script of it runs.

use std::time::Duration;

use simian_tests::browser::{self, Browser};
use simian_tests::console::{Console, HOSTILE_TAG, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_engineer_works_through_the_console() {
    if !browser::available() {
        return;
    }
    let c = Console::start(None, 2).await;
    let viewer = c.token("viewer");
    c.wait_for_issues(&viewer).await;
    let b = Browser::start().await;

    // Anonymous: sent to the login page, and back to where they were going after it.
    b.goto(&c.url("/items")).await;
    let user = b.wait_for("#user").await;
    b.type_into(&user, "justifier").await;
    b.type_into(&b.find("#password").await, PASSWORD).await;
    b.click(&b.find("#sign-in").await).await;
    b.wait_for("#item-total").await;
    assert!(b.url().await.ends_with("/items"), "{}", b.url().await);
    assert_eq!(
        b.text(&b.find("#whoami").await).await,
        "justifier (justifier)"
    );

    // Filter by name through the form (htmx swaps the table in place).
    b.type_into(&b.find("#q").await, "open-ssh").await;
    b.click(&b.find("#filter").await).await;
    b.wait_for_text("#item-total", "1").await;
    // Typing and clicking may each swap the table in: read and click the link in the page,
    // never through a reference a later swap can leave stale.
    b.wait_for_text("a.item-link", "open-ssh").await;
    assert_eq!(
        b.run("return document.querySelectorAll('a.item-link').length;")
            .await,
        1
    );

    // The item page: the hostile tag is text, and nothing of it ran.
    b.run("document.querySelector('a.item-link').click();")
        .await;
    b.wait_for("#item-arn").await;
    let tag = b.wait_for("td.tag-value").await;
    assert_eq!(b.text(&tag).await, HOSTILE_TAG);
    assert_eq!(b.run("return window.__pwned === undefined;").await, true);
    assert!(
        b.find_all("img[src='x']").await.is_empty(),
        "the tag became markup"
    );

    // Justify its issue from the page and see it justified, with the audit trail.
    let reason = b.wait_for("article.issue.open input.reason").await;
    b.type_into(&reason, "bastion host, reviewed").await;
    b.click(&b.find("article.issue.open .justify-button").await)
        .await;
    let justified = b.wait_for("p.justified").await;
    let text = b.text(&justified).await;
    assert!(
        text.contains("justified by justifier") && text.contains("bastion host, reviewed"),
        "{text}"
    );
    assert_eq!(b.run("return window.__pwned === undefined;").await, true);

    // Wait for a second revision of internal-web (a rule added in moto) and open its diff.
    simian_tests::console::widen_internal_web(&c.moto).await;
    b.goto(&c.url("/items?q=internal-web")).await;
    b.click(&b.wait_for("a.item-link").await).await;
    let mut diff_text = String::new();
    for _ in 0..100 {
        if let Some(d) = b.find_all("table.diff").await.into_iter().next() {
            diff_text = b.text(&d).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.goto(&b.url().await).await;
    }
    assert!(
        diff_text.contains("8443"),
        "no diff with the new rule: {diff_text}"
    );
    // Side by side with the previous revision.
    b.click(&b.find("a.compare-revisions").await).await;
    let table = b.wait_for("table.compare").await;
    assert!(b.text(&table).await.contains("8443"));

    // Compare two items picked on the items page.
    b.goto(&c.url("/items?type=AWS::EC2::SecurityGroup")).await;
    let boxes = b.find_all("input[name=pick]").await;
    assert!(boxes.len() >= 2);
    b.click(&boxes[0]).await;
    b.click(&boxes[1]).await;
    b.click(&b.find("#compare-selected").await).await;
    let table = b.wait_for("table.compare").await;
    let headers = b.find_all("table.compare thead th").await;
    assert_eq!(headers.len(), 3, "path + two items");
    assert!(b.text(&table).await.contains("configuration."));

    // Export exactly the filtered view as CSV, with the browser's own session.
    b.goto(&c.url("/items?type=AWS::EC2::SecurityGroup")).await;
    let href = b
        .attribute(&b.wait_for("#export-csv").await, "href")
        .await
        .expect("export link");
    let total: usize = b
        .text(&b.find("#item-total").await)
        .await
        .parse()
        .expect("total");
    let cookie = b.cookie("simian_session").await.expect("session cookie");
    let href = if href.starts_with("http") {
        href
    } else {
        c.url(&href)
    };
    let csv = c
        .http
        .get(&href)
        .header("cookie", cookie)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("csv");
    assert_eq!(csv.lines().count(), total + 1, "{csv}");

    // The dashboard renders its charts.
    b.goto(&c.url("/")).await;
    b.wait_for("svg.chart").await;
    let shot = c.env.path().join("console.png");
    b.screenshot(&shot).await;
    assert!(std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000);
    println!("screenshot: {}", shot.display());
    // Kept for the closing note's screenshot path (the temp dir goes with the test).
    if let Ok(dir) = std::env::var("SIMIAN_SCREENSHOT_DIR") {
        let _ = std::fs::copy(&shot, std::path::Path::new(&dir).join("console.png"));
    }
    b.close().await;
}
