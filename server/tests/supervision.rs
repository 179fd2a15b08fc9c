//! Supervision: an admin chooses each queue's supervisors; a supervisor's
//! wallboard shows their queues and the representatives who serve them,
//! live, with the thresholds that colour its figures.

mod common;

use app::model::Role;
use app::queue::{Alert, QueueWithMembers, Thresholds};
use app::supervision::Wallboard;
use common::{enter_audio, error_message, named_agent, ready, TestApp};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn an_admin_chooses_supervisors_and_thresholds_and_a_supervisor_sees_only_their_queues(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let engine = common::engine(&app.pool).await;
    let admin = app.signed_in(Role::Admin).await;
    let sue = app.sign_in_as(Role::Supervisor).await;
    let agent = app.sign_in_as(Role::Agent).await;
    let billing = common::add_queue(&app.pool, "Billing", "push", "longest_idle").await;
    let support = common::add_queue(&app.pool, "Support", "push", "longest_idle").await;
    let ann = named_agent(&app.pool, "Ann Billing", billing).await;
    named_agent(&app.pool, "Sam Support", support).await;

    // Billing: Sue supervises it (an agent offered as supervisor is left
    // out), with thresholds; red before amber is refused with the reason.
    let (id, sue_id, agent_id) = (billing.to_string(), sue.id.to_string(), agent.id.to_string());
    let fields = |wait_red: &'static str| {
        vec![
            ("id", id.clone()),
            ("name", "Billing".to_owned()),
            ("channels[0]", "audio".to_owned()),
            ("routing_mode", "push".to_owned()),
            ("strategy", "longest_idle".to_owned()),
            ("rona_seconds", "15".to_owned()),
            ("wrap_up_seconds", "30".to_owned()),
            ("service_level_seconds", "20".to_owned()),
            ("when_nobody", "accept".to_owned()),
            ("nobody_message", "Back soon.".to_owned()),
            ("members[0]", ann.to_string()),
            ("supervisors[0]", sue_id.clone()),
            ("supervisors[1]", agent_id.clone()),
            ("wait_amber_seconds", "60".to_owned()),
            ("wait_red_seconds", wait_red.to_owned()),
            ("level_amber_percent", "80".to_owned()),
            ("level_red_percent", "60".to_owned()),
        ]
    };
    let save = |wait_red: &'static str| {
        let (app, admin, fields) = (&app, &admin, fields(wait_red));
        async move {
            let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.call(admin, "queues/save", &form).await
        }
    };
    let refused = save("30").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(error_message(refused).await.contains("red must be at least amber"));
    let saved: QueueWithMembers = save("120").await.json().await.unwrap();
    assert_eq!(saved.supervisors, [sue.id.uuid()]);
    let thresholds = saved.queue.settings.thresholds;
    assert_eq!(thresholds.wait_red_seconds, Some(120));
    assert_eq!((thresholds.wait(Some(30.0)), thresholds.wait(Some(90.0)), thresholds.wait(Some(121.0))), (Alert::Normal, Alert::Amber, Alert::Red));
    assert_eq!((thresholds.level(Some(0.9)), thresholds.level(Some(0.7)), thresholds.level(Some(0.5))), (Alert::Normal, Alert::Amber, Alert::Red));
    assert_eq!(Thresholds::default().wait(Some(1e9)), Alert::Normal, "no threshold, no colour");

    // Sue's wallboard: Billing only, with Ann; a customer waiting and Ann
    // READY show there.
    ready(&engine, ann).await;
    let board = |client: reqwest::Client| {
        let app = &app;
        async move {
            let response = app.call(&client, "supervisor/wallboard", &[]).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Wallboard>().await.unwrap()
        }
    };
    let seen = board(sue.client.clone()).await;
    assert_eq!(seen.queues.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), ["Billing"]);
    assert_eq!(seen.representatives.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["Ann Billing"]);
    assert_eq!(seen.queues[0].ready, 1);
    sqlx::query("UPDATE agent_states SET state = 'NOT_READY', reason = 'Lunch' WHERE representative_id = $1")
        .bind(ann)
        .execute(&app.pool)
        .await
        .unwrap();
    enter_audio(&engine, billing, "Xena").await;
    let seen = board(sue.client.clone()).await;
    assert_eq!(seen.queues[0].waiting, 1);
    assert_eq!(seen.representatives[0].reason.as_deref(), Some("Lunch"));

    // An admin sees every queue; an agent has no wallboard.
    let everything = board(admin.clone()).await;
    assert!(["Billing", "General", "Support"].iter().all(|name| everything.queues.iter().any(|q| q.name == *name)));
    assert_eq!(app.call(&agent.client, "supervisor/wallboard", &[]).await.status(), StatusCode::FORBIDDEN);
}
