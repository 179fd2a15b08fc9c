//! Supervision: an admin chooses each queue's supervisors; a supervisor's
//! wallboard shows their queues and the representatives who serve them,
//! live, with the thresholds that colour its figures.

mod common;

use app::model::Role;
use app::queue::{Alert, QueueWithMembers, Thresholds};
use app::supervision::Wallboard;
use common::{enter_audio, error_message, named_agent, ready, TestApp};
use reqwest::StatusCode;
use serde_json::json;
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
    let save = |wait_red: i32| {
        let sent = json!({
            "id": id,
            "settings": {
                "name": "Billing",
                "channels": ["audio"],
                "routing_mode": "push",
                "strategy": "longest_idle",
                "rona_seconds": 15,
                "wrap_up_seconds": 30,
                "service_level_seconds": 20,
                "when_nobody": "accept",
                "nobody_message": "Back soon.",
                "thresholds": { "wait_amber_seconds": 60, "wait_red_seconds": wait_red,
                                "level_amber_percent": 80, "level_red_percent": 60 },
            },
            "members": [ann],
            "supervisors": [sue_id, agent_id],
        });
        let (app, admin) = (&app, &admin);
        async move { app.call_json(admin, "queues/save", &sent).await }
    };
    let refused = save(30).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(error_message(refused).await.contains("red must be at least amber"));
    let saved: QueueWithMembers = save(120).await.json().await.unwrap();
    assert_eq!(saved.supervisors, [sue.id.uuid()]);
    let thresholds = saved.queue.settings.thresholds;
    assert_eq!(thresholds.wait_red_seconds, Some(120));
    assert_eq!(
        (thresholds.wait(Some(30.0)), thresholds.wait(Some(90.0)), thresholds.wait(Some(121.0))),
        (Alert::Normal, Alert::Amber, Alert::Red)
    );
    assert_eq!(
        (thresholds.level(Some(0.9)), thresholds.level(Some(0.7)), thresholds.level(Some(0.5))),
        (Alert::Normal, Alert::Amber, Alert::Red)
    );
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

/// Joining conversations: who may, and what each mode carries.
mod joining {
    use app::conversation::party::Side;
    use app::conversation::roles::{Role as Part, Sends};
    use app::conversation::signaling::{peers, send_signal, Peer};
    use app::customer::view::customer_view;
    use app::customer::CustomerView;
    use app::engine::control::{self, EndedBy};
    use app::engine::{conference, offers, supervise, Engine};
    use app::error::AppError;
    use app::model::{Me, Role};
    use app::states::{AgentId, HelpSessionId, QueueId};
    use reqwest::StatusCode;
    use sqlx::PgPool;

    use super::common::{self, enter_audio, error_message, line_names, named_agent, ready, status_of, SignedIn, TestApp};

    /// A customer talking with `agent` (READY, the only one who can take them).
    async fn talking(engine: &Engine, queue: QueueId, agent: AgentId, name: &str) -> HelpSessionId {
        let customer = enter_audio(engine, queue, name).await;
        offers::accept(engine, agent, customer).await.unwrap();
        customer
    }

    /// A supervisor of `queue`, signed in.
    async fn supervisor_of(app: &TestApp, queue: QueueId) -> SignedIn {
        let supervisor = app.sign_in_as(Role::Supervisor).await;
        sqlx::query("INSERT INTO queue_supervisors (queue_id, representative_id) VALUES ($1, $2)")
            .bind(queue)
            .bind(supervisor.id)
            .execute(&app.pool)
            .await
            .unwrap();
        supervisor
    }

    fn me(who: &SignedIn, role: Role) -> Me {
        Me { id: who.id.uuid(), email: String::new(), display_name: "Test".into(), role }
    }

    async fn join(app: &TestApp, who: &SignedIn, customer: HelpSessionId, mode: &str) -> reqwest::Response {
        app.call(&who.client, "supervisor/join", &[("help_session", &customer.to_string()), ("mode", mode)]).await
    }

    /// Joins as `me` would from the wallboard: with the queues they supervise.
    async fn supervise_as(engine: &Engine, me: &Me, customer: HelpSessionId, role: Part) -> Result<(), AppError> {
        let queues = app::supervision::board::supervised(engine.pool(), me).await?;
        supervise::supervise(engine, me.id.into(), &queues, customer, role).await
    }

    /// `me`'s page's peer `party`, if the two pages connect.
    async fn peer(pool: &PgPool, customer: HelpSessionId, me: Side, party: Side) -> Option<Peer> {
        let listed = peers(pool, customer, me).await.unwrap();
        listed.peers.into_iter().find(|peer| peer.party == party.key())
    }

    /// What `me`'s page sends to `party`, and whether it receives from them.
    async fn flow(pool: &PgPool, customer: HelpSessionId, me: Side, party: Side) -> (Sends, bool) {
        let peer = peer(pool, customer, me, party).await.expect("a peer");
        (peer.send, peer.receive)
    }

    /// Whether the signaling relay passes a message from `from` to `to`.
    async fn signals(engine: &Engine, customer: HelpSessionId, from: Side, to: Side) -> bool {
        let message = serde_json::json!({ "type": "ready", "to": to.key() }).to_string();
        match send_signal(engine, customer, from, &message).await {
            Ok(()) => true,
            // The same answer as for someone who is not there at all.
            Err(AppError::Conflict(message)) if message == "This participant is not in the conversation." => false,
            Err(other) => panic!("{other:?}"),
        }
    }

    /// Asserts that the customer's page and `supervisor`'s neither connect
    /// nor reach each other through the relay, and that the owner forwards
    /// the customer to the supervisor.
    async fn apart(engine: &Engine, customer: HelpSessionId, supervisor: Side, owner: Side) {
        let pool = engine.pool();
        assert!(peer(pool, customer, supervisor, Side::Customer).await.is_none(), "the supervisor's page lists the customer");
        assert!(peer(pool, customer, Side::Customer, supervisor).await.is_none(), "the customer's page lists the supervisor");
        assert!(!signals(engine, customer, Side::Customer, supervisor).await, "the customer signaled the supervisor");
        assert!(!signals(engine, customer, supervisor, Side::Customer).await, "the supervisor signaled the customer");
        let to_supervisor = peer(pool, customer, owner, supervisor).await.expect("the owner connects to the supervisor");
        assert!(to_supervisor.forward && !to_supervisor.forwarded, "the owner forwards the customer: {to_supervisor:?}");
        assert!(peer(pool, customer, supervisor, owner).await.unwrap().forwarded);
        assert!(signals(engine, customer, supervisor, owner).await && signals(engine, customer, Side::Customer, owner).await);
    }

    /// The live supervisors' parts of a conversation: (supervisor, mode, asked).
    async fn parts(pool: &PgPool, customer: HelpSessionId) -> Vec<(AgentId, String, bool)> {
        sqlx::query_as(
            "SELECT supervisor_id, role, asked_at IS NOT NULL FROM supervisions
              WHERE help_session_id = $1 AND left_at IS NULL ORDER BY joined_at",
        )
        .bind(customer)
        .fetch_all(pool)
        .await
        .unwrap()
    }

    #[sqlx::test(migrator = "server::database::MIGRATOR")]
    async fn only_the_queues_supervisors_join_and_each_mode_carries_exactly_what_it_allows(pool: PgPool) {
        let app = TestApp::spawn(pool).await;
        let engine = common::engine(&app.pool).await;
        let billing = common::add_queue(&app.pool, "Billing", "push", "longest_idle").await;
        let ann = named_agent(&app.pool, "Ann Billing", billing).await;
        ready(&engine, ann).await;
        let customer = talking(&engine, billing, ann, "Xena").await;
        let sue = supervisor_of(&app, billing).await;
        let other = app.sign_in_as(Role::Supervisor).await;
        let agent = app.sign_in_as(Role::Agent).await;
        let admin = app.sign_in_as(Role::Admin).await;
        let (rep, customer_side, sue_side) = (Side::Agent(ann), Side::Customer, Side::Agent(sue.id));

        // Another queue's supervisor: 403; an agent: 403; nonsense: 400.
        assert_eq!(join(&app, &other, customer, "monitor").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(join(&app, &agent, customer, "monitor").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(join(&app, &sue, customer, "agent").await.status(), StatusCode::BAD_REQUEST);
        assert!(parts(&app.pool, customer).await.is_empty());

        // Monitor: receives the representative, and the customer through
        // the representative's page; sends nothing; the customer's page
        // never connects to her, and a stranger's id gets the same answer.
        // Many may monitor at once (an admin supervises every queue).
        assert_eq!(join(&app, &sue, customer, "monitor").await.status(), StatusCode::OK);
        assert_eq!(flow(&app.pool, customer, sue_side, rep).await, (Sends::Nothing, true));
        assert_eq!(flow(&app.pool, customer, rep, sue_side).await, (Sends::Everything, false));
        apart(&engine, customer, sue_side, rep).await;
        assert!(!signals(&engine, customer, customer_side, Side::Agent(other.id)).await);
        assert_eq!(join(&app, &admin, customer, "monitor").await.status(), StatusCode::OK);
        assert_eq!(parts(&app.pool, customer).await.len(), 2);
        let view = customer_view(&app.pool, customer).await.unwrap().unwrap();
        assert!(matches!(view, CustomerView::Matched { supervisor: None, .. }), "the customer is never told of a monitor");

        // Whisper: the voice reaches the representative only. One at a time
        // may whisper or barge in.
        assert_eq!(join(&app, &sue, customer, "whisper").await.status(), StatusCode::OK);
        assert_eq!(flow(&app.pool, customer, sue_side, rep).await, (Sends::Voice, true));
        apart(&engine, customer, sue_side, rep).await;
        let refused = join(&app, &admin, customer, "barge").await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(error_message(refused).await.contains("already whispering or barged in"));

        // Barge: a full participant the customer sees by name.
        assert_eq!(join(&app, &sue, customer, "barge").await.status(), StatusCode::OK);
        for (a, b) in [(sue_side, rep), (sue_side, customer_side), (customer_side, sue_side), (rep, sue_side)] {
            assert_eq!(flow(&app.pool, customer, a, b).await, (Sends::Everything, true), "{a:?} → {b:?}");
            assert!(signals(&engine, customer, a, b).await, "{a:?} → {b:?}");
        }
        assert!(!peer(&app.pool, customer, rep, sue_side).await.unwrap().forward, "she hears the customer herself");
        let view = customer_view(&app.pool, customer).await.unwrap().unwrap();
        assert!(matches!(view, CustomerView::Matched { supervisor: Some(ref name), .. } if name == "Test"), "{view:?}");
        let desk = app::desk::snapshot::desk(&app.pool, ann).await.unwrap();
        assert_eq!(desk.customers[0].supervisor.as_ref().map(|(_, mode)| *mode), Some(Part::Barge));
        assert!(desk.customers[0].monitored, "the admin still monitors");
        sqlx::query("UPDATE queues SET hide_monitoring = true WHERE id = $1").bind(billing).execute(&app.pool).await.unwrap();
        let desk = app::desk::snapshot::desk(&app.pool, ann).await.unwrap();
        assert!(!desk.customers[0].monitored, "an admin may hide the monitor from the desk");
        assert!(desk.customers[0].supervisor.is_some(), "never the one barged in");

        // Hold: the supervisors hear only the representative.
        control::hold(&engine, ann, customer).await.unwrap();
        assert_eq!(flow(&app.pool, customer, sue_side, customer_side).await, (Sends::Nothing, false));
        assert_eq!(flow(&app.pool, customer, sue_side, rep).await, (Sends::Everything, true));

        // Supervisors take no seat and the events name each step.
        let seats: (i32, i32) =
            sqlx::query_as("SELECT live_total, sessions_total FROM agent_states WHERE representative_id = $1")
                .bind(sue.id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(seats, (0, 0));
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT kind || ' ' || (detail->>'role') FROM events WHERE help_session_id = $1 AND representative_id = $2
              AND kind LIKE 'SUPERVISE%' ORDER BY id",
        )
        .bind(customer)
        .bind(sue.id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(kinds, ["SUPERVISE_START monitor", "SUPERVISE_MODE whisper", "SUPERVISE_MODE barge"]);
    }

    #[sqlx::test(migrator = "server::database::MIGRATOR")]
    async fn whispers_reach_the_representatives_and_never_the_customer(pool: PgPool) {
        let app = TestApp::spawn(pool).await;
        let engine = common::engine(&app.pool).await;
        let (ann, billing) = common::serving(&app, Role::Agent, "Billing").await;
        ready(&engine, ann.id).await;
        let (customer, token) = common::api_customer(&app, &app, billing, "Xena", "chat").await;
        offers::accept(&engine, ann.id, customer).await.unwrap();
        let sue = supervisor_of(&app, billing).await;
        let session = customer.to_string();
        let say = |who: &SignedIn, body: &'static str| {
            let (app, client, session) = (&app, who.client.clone(), session.clone());
            async move { app.call(&client, "conversation/message", &[("help_session", session.as_str()), ("body", body)]).await }
        };

        // A monitor writes nothing.
        assert_eq!(join(&app, &sue, customer, "monitor").await.status(), StatusCode::OK);
        let refused = say(&sue, "hello?").await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert!(error_message(refused).await.contains("silent monitor"));

        // A whisper is stored apart and read by the representative only.
        assert_eq!(join(&app, &sue, customer, "whisper").await.status(), StatusCode::OK);
        assert_eq!(say(&sue, "Offer the refund").await.status(), StatusCode::OK);
        let whisper: i64 =
            sqlx::query_scalar("SELECT id FROM messages WHERE role = 'whisper'").fetch_one(&app.pool).await.unwrap();
        // The representative answers the whisper, replying to it.
        let answer = app
            .call(
                &ann.client,
                "conversation/message",
                &[("help_session", &session), ("body", "We can refund you"), ("reply_to", &whisper.to_string())],
            )
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
        let quoting_the_whisper = format!("\"reply_to\":{whisper}");
        let chat_of = |headers: Vec<(&'static str, String)>, query: String| {
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let mut socket = app.socket(&format!("/ws/chat?session={customer}{query}"), &headers).await.unwrap();
                common::next_text(&mut socket, std::time::Duration::from_secs(10)).await.unwrap()
            }
        };
        let desk_chat = chat_of(vec![("cookie", ann.cookie.clone())], String::new()).await;
        assert!(desk_chat.contains("Offer the refund") && desk_chat.contains("We can refund you"), "{desk_chat}");
        assert!(desk_chat.contains(&quoting_the_whisper), "the desk shows what the reply answers: {desk_chat}");
        // The customer's page (cookie), an API client (token in the query),
        // and a reload: never the whisper; nor can they reply to it.
        let by_cookie = chat_of(vec![("cookie", common::customer_cookie(&token))], String::new()).await;
        let by_token = chat_of(Vec::new(), format!("&token={token}")).await;
        for customer_chat in [by_cookie, by_token] {
            assert!(customer_chat.contains("We can refund you"), "{customer_chat}");
            assert!(!customer_chat.contains("Offer the refund"), "a whisper reached the customer: {customer_chat}");
            assert!(!customer_chat.contains(&quoting_the_whisper), "the reply named the whisper: {customer_chat}");
        }
        let reply = common::as_customer(
            &app,
            &token,
            "conversation/message",
            &[("help_session", &session), ("body", "What refund?"), ("reply_to", &whisper.to_string())],
        )
        .await;
        assert_eq!(reply.status(), StatusCode::BAD_REQUEST);

        // Barged in, the supervisor's messages reach everyone.
        assert_eq!(join(&app, &sue, customer, "barge").await.status(), StatusCode::OK);
        assert_eq!(say(&sue, "I am the supervisor").await.status(), StatusCode::OK);
        let customer_chat = chat_of(vec![("cookie", common::customer_cookie(&token))], String::new()).await;
        assert!(customer_chat.contains("I am the supervisor") && !customer_chat.contains("Offer the refund"));

        // The supervisor's page closes: their part ends (nobody listens).
        let mut page = app.socket(&format!("/ws/chat?session={customer}"), &[("cookie", sue.cookie.as_str())]).await.unwrap();
        common::next_text(&mut page, std::time::Duration::from_secs(10)).await.unwrap();
        drop(page);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !parts(&app.pool, customer).await.is_empty() {
            assert!(std::time::Instant::now() < deadline, "the supervisor's part outlived their page");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// One person, one part: a supervisor invited in as a colleague stops
    /// supervising; a warm transfer into another queue ends the parts of
    /// supervisors who do not supervise it (an admin's goes on).
    #[sqlx::test(migrator = "server::database::MIGRATOR")]
    async fn a_supervisor_joining_as_a_colleague_or_a_move_to_another_queue_ends_their_part(pool: PgPool) {
        use app::engine::conference::Joining;
        use app::engine::transfer::Target;
        let app = TestApp::spawn(pool).await;
        let engine = common::engine(&app.pool).await;
        let sales = common::add_queue(&app.pool, "Sales", "push", "longest_idle").await;
        let billing = common::add_queue(&app.pool, "Billing", "push", "longest_idle").await;
        let ann = named_agent(&app.pool, "Ann Sales", sales).await;
        ready(&engine, ann).await;
        // Sam serves Sales and supervises it.
        let sam = named_agent(&app.pool, "Sam Both", sales).await;
        sqlx::query("INSERT INTO queue_supervisors (queue_id, representative_id) VALUES ($1, $2)")
            .bind(sales)
            .bind(sam)
            .execute(&app.pool)
            .await
            .unwrap();
        app::engine::agents::log_in(&engine, sam).await.unwrap();
        let sam_me = Me { id: sam.uuid(), email: String::new(), display_name: "Sam".into(), role: Role::Supervisor };
        let first = talking(&engine, sales, ann, "First").await;
        supervise_as(&engine, &sam_me, first, Part::Monitor).await.unwrap();
        conference::invite(&engine, ann, first, Target::Agent(sam), Joining::Conference).await.unwrap();
        offers::accept(&engine, sam, first).await.unwrap();
        assert!(parts(&app.pool, first).await.is_empty(), "Sam serves it now, and supervises it no more");
        let why: String =
            sqlx::query_scalar("SELECT detail->>'why' FROM events WHERE help_session_id = $1 AND kind = 'SUPERVISE_STOP'")
                .bind(first)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(why, "joined");

        // Into Billing, which Sue does not supervise: her part ends; the
        // admin's goes on.
        let cara = named_agent(&app.pool, "Cara Billing", billing).await;
        ready(&engine, cara).await;
        let sue = supervisor_of(&app, sales).await;
        let admin = app.sign_in_as(Role::Admin).await;
        let dan = named_agent(&app.pool, "Dan Sales", sales).await;
        ready(&engine, dan).await;
        let second = talking(&engine, sales, dan, "Second").await;
        supervise_as(&engine, &me(&sue, Role::Supervisor), second, Part::Monitor).await.unwrap();
        supervise_as(&engine, &me(&admin, Role::Admin), second, Part::Monitor).await.unwrap();
        conference::invite(&engine, dan, second, Target::Queue(billing), Joining::WarmTransfer { max_transfers: 5 })
            .await
            .unwrap();
        offers::accept(&engine, cara, second).await.unwrap();
        conference::complete(&engine, dan, second).await.unwrap();
        let left: Vec<AgentId> =
            sqlx::query_scalar("SELECT supervisor_id FROM supervisions WHERE help_session_id = $1 AND left_at IS NULL")
                .bind(second)
                .fetch_all(&app.pool)
                .await
                .unwrap();
        assert_eq!(left, [admin.id]);
    }

    /// A supervisor who leaves loses the conversation's chat and signaling
    /// at once, not at the sockets' next refresh (15 s).
    #[sqlx::test(migrator = "server::database::MIGRATOR")]
    async fn leaving_a_supervision_closes_its_sockets_at_once(pool: PgPool) {
        let app = TestApp::spawn(pool).await;
        let engine = common::engine(&app.pool).await;
        let billing = common::add_queue(&app.pool, "Billing", "push", "longest_idle").await;
        let ann = named_agent(&app.pool, "Ann Billing", billing).await;
        ready(&engine, ann).await;
        let sue = supervisor_of(&app, billing).await;
        let customer = talking(&engine, billing, ann, "Carl").await;
        supervise_as(&engine, &me(&sue, Role::Supervisor), customer, Part::Monitor).await.unwrap();
        let cookie = [("cookie", sue.cookie.as_str())];
        let mut chat = app.socket(&format!("/ws/chat?session={customer}"), &cookie).await.unwrap();
        common::next_text(&mut chat, std::time::Duration::from_secs(10)).await.unwrap();
        let mut signal = app.socket(&format!("/ws/signal?session={customer}"), &cookie).await.unwrap();
        common::next_text(&mut signal, std::time::Duration::from_secs(10)).await.unwrap();

        supervise::leave(&engine, sue.id, customer).await.unwrap();
        assert!(common::closes(&mut chat, std::time::Duration::from_secs(5)).await, "the chat stayed open");
        assert!(common::closes(&mut signal, std::time::Duration::from_secs(5)).await, "the signaling stayed open");
    }

    #[sqlx::test(migrator = "server::database::MIGRATOR")]
    async fn the_representative_ending_or_leaving_ends_or_hands_over_the_supervisors_part(pool: PgPool) {
        let app = TestApp::spawn(pool).await;
        let engine = common::engine(&app.pool).await;
        let billing = common::add_queue(&app.pool, "Billing", "push", "longest_idle").await;
        let ann = named_agent(&app.pool, "Ann Billing", billing).await;
        ready(&engine, ann).await;
        let sue = supervisor_of(&app, billing).await;
        let admin = app.sign_in_as(Role::Admin).await;
        let (sue_me, admin_me) = (me(&sue, Role::Supervisor), me(&admin, Role::Admin));

        // The representative ends: every supervisor's part ends with it.
        let first = talking(&engine, billing, ann, "First").await;
        supervise_as(&engine, &sue_me, first, Part::Whisper).await.unwrap();
        supervise_as(&engine, &admin_me, first, Part::Monitor).await.unwrap();
        control::end(&engine, first, EndedBy::Agent).await.unwrap();
        assert!(parts(&app.pool, first).await.is_empty());
        let stops: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE help_session_id = $1 AND kind = 'SUPERVISE_STOP'")
            .bind(first)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(stops, 2);
        control::wrap_up(&engine, ann, first, "Resolved", "").await.unwrap();

        // Leaving while a supervisor is barged in: the supervisor is asked
        // (a monitor's part ends), and takes the customer over.
        let second = talking(&engine, billing, ann, "Second").await;
        supervise_as(&engine, &sue_me, second, Part::Barge).await.unwrap();
        supervise_as(&engine, &admin_me, second, Part::Monitor).await.unwrap();
        control::leave(&engine, ann, second).await.unwrap();
        assert_eq!(parts(&app.pool, second).await, [(sue.id, "barge".to_owned(), true)]);
        assert_eq!(status_of(&app.pool, second).await, "active", "the customer goes on talking with the supervisor");
        control::wrap_up(&engine, ann, second, "Handed over", "").await.unwrap();
        let switched = supervise_as(&engine, &sue_me, second, Part::Monitor).await;
        assert!(matches!(switched, Err(AppError::Conflict(_))), "nobody would serve the customer: {switched:?}");
        let nobody = supervise::take_over(&engine, admin.id, second).await;
        assert!(matches!(nobody, Err(AppError::Conflict(_))), "only the one asked takes over: {nobody:?}");
        let nobody = supervise::give_back(&engine, admin.id, second).await;
        assert!(matches!(nobody, Err(AppError::Conflict(_))), "or gives back: {nobody:?}");
        supervise::take_over(&engine, sue.id, second).await.unwrap();
        assert!(parts(&app.pool, second).await.is_empty());
        let owner: Option<AgentId> = sqlx::query_scalar("SELECT agent_id FROM help_sessions WHERE id = $1")
            .bind(second)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(owner, Some(sue.id));
        control::end(&engine, second, EndedBy::Agent).await.unwrap();
        control::wrap_up(&engine, sue.id, second, "Resolved", "").await.unwrap();
        assert_eq!(status_of(&app.pool, second).await, "completed");

        // Or returns them to the front of the line (as when they do not
        // answer within a minute).
        let third = talking(&engine, billing, ann, "Third").await;
        enter_audio(&engine, billing, "Later").await;
        supervise_as(&engine, &sue_me, third, Part::Barge).await.unwrap();
        control::leave(&engine, ann, third).await.unwrap();
        supervise::sweep(&engine).await.unwrap();
        assert_eq!(parts(&app.pool, third).await.len(), 1, "the supervisor has a minute to answer");
        sqlx::query("UPDATE supervisions SET asked_at = now() - interval '61 seconds' WHERE help_session_id = $1")
            .bind(third)
            .execute(&app.pool)
            .await
            .unwrap();
        supervise::sweep(&engine).await.unwrap();
        assert_eq!(status_of(&app.pool, third).await, "waiting", "nobody answered: back to the line");
        assert_eq!(line_names(&app.pool, billing).await, ["Third", "Later"], "by their first entry");
        assert!(parts(&app.pool, third).await.is_empty());

        // The customer ends while the supervisor is asked: everything ends.
        control::wrap_up(&engine, ann, third, "Handed over", "").await.unwrap();
        offers::accept(&engine, ann, third).await.unwrap();
        supervise_as(&engine, &sue_me, third, Part::Barge).await.unwrap();
        control::leave(&engine, ann, third).await.unwrap();
        control::end(&engine, third, EndedBy::Customer).await.unwrap();
        assert!(parts(&app.pool, third).await.is_empty());
        assert_eq!(status_of(&app.pool, third).await, "wrap_up", "the representative's wrap-up is still open");
        control::wrap_up(&engine, ann, third, "Resolved", "").await.unwrap();
        assert_eq!(status_of(&app.pool, third).await, "completed");
    }
}
