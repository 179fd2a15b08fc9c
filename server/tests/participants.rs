//! Several people in one conversation, against a real PostgreSQL.
//! Transfers: to a queue (the customer keeps their age), to a colleague by
//! name (missed: back in the line, the asker told), every refusal with its
//! reason, the chain cap, and the races. Conferences: a colleague asked,
//! joining, hold, leaving (the owner's part handed on), ending for all, and
//! an offer to join withdrawn when the conversation ends.

mod common;

use common::{enter_audio as enter, line_names as line_of, named_agent as agent, ready, status_of};

use app::conversation::party::Side;
use app::conversation::roles::{Role, Sends};
use app::conversation::signaling::peers;
use app::customer::view::customer_view;
use app::customer::{Back, CustomerView};
use app::engine::conference::Joining;
use app::engine::control::{self, EndedBy};
use app::engine::line::{self, Left};
use app::engine::offers::{self, Unanswered};
use app::engine::transfer::{self, Target, Transfer};
use app::engine::{agents, conference, Engine};
use app::error::AppError;
use app::states::{AgentId, HelpSessionId, HelpStatus, QueueId};
use serde_json::json;
use sqlx::PgPool;

/// A customer who entered `queue` and is talking with `agent` (READY, and
/// the only one who can take them).
async fn talking(engine: &Engine, queue: QueueId, agent: AgentId, name: &str) -> HelpSessionId {
    let customer = enter(engine, queue, name).await;
    offers::accept(engine, agent, customer).await.unwrap();
    customer
}

fn to(help_session: HelpSessionId, target: Target) -> Transfer {
    Transfer { help_session, to: target, note: String::new(), max_transfers: 5 }
}

/// (live, sessions) of the agent's audio seat, and their wrap-ups.
async fn seats(pool: &PgPool, agent: AgentId) -> (i32, i32, i32) {
    sqlx::query_as(
        "SELECT c.live, c.sessions, s.wrap_ups FROM agent_channels c JOIN agent_states s USING (representative_id)
          WHERE c.representative_id = $1 AND c.channel = 'audio'",
    )
    .bind(agent)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The TRANSFER events' (stage, reason), in order.
async fn transfers(pool: &PgPool, session: HelpSessionId) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT detail->>'stage', detail->>'reason' FROM events WHERE help_session_id = $1 AND kind = 'TRANSFER' ORDER BY id",
    )
    .bind(session)
    .fetch_all(pool)
    .await
    .unwrap()
}

fn conflict(result: Result<(), AppError>) -> String {
    match result {
        Err(AppError::Conflict(message)) => message,
        other => panic!("expected a 409, got {other:?}"),
    }
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_customer_transferred_to_a_queue_keeps_their_age_and_every_part_is_recorded(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let billing = common::add_queue(&pool, "Billing", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann Archer", sales).await;
    let bob = agent(&pool, "Bob Baker", billing).await;
    ready(&engine, ann).await;
    agents::log_in(&engine, bob).await.unwrap();
    let xena = talking(&engine, sales, ann, "Xena").await;
    // Two customers join Billing's line after Xena entered Sales.
    enter(&engine, billing, "Yuri").await;
    enter(&engine, billing, "Zoe").await;

    let mut request = to(xena, Target::Queue(billing));
    request.note = "Wants a refund for March".into();
    transfer::transfer(&engine, ann, &request).await.unwrap();

    assert_eq!(line_of(&pool, billing).await, ["Xena", "Yuri", "Zoe"], "Xena keeps her age: first");
    assert_eq!(status_of(&pool, xena).await, "waiting");
    assert_eq!(seats(&pool, ann).await, (0, 0, 1), "Ann's seat is free and her part is in wrap-up");
    match customer_view(&pool, xena).await.unwrap() {
        Some(CustomerView::Waiting { queue, position, back, .. }) => {
            assert_eq!((queue.as_str(), position), ("Billing", 1));
            assert_eq!(back, Some(Back::Transferred { to: "Billing".into() }));
        }
        other => panic!("{other:?}"),
    }
    let desk = app::desk::snapshot::desk(&pool, ann).await.unwrap();
    assert_eq!(desk.customers.len(), 1);
    assert_eq!(desk.customers[0].status, app::states::HelpStatus::WrapUp);
    assert_eq!(desk.customers[0].outcome.as_deref(), Some("Transferred to Billing."));

    // Bob is offered Xena first, with Ann's note.
    agents::set_ready(&engine, bob).await.unwrap();
    let offered = app::desk::snapshot::desk(&pool, bob).await.unwrap().offers;
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].customer_name, "Xena");
    let handover = offered[0].transferred.clone().expect("the offer says who transferred her");
    assert_eq!((handover.by.as_str(), handover.note.as_deref()), ("Ann Archer", Some("Wants a refund for March")));
    offers::accept(&engine, bob, xena).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "active");

    // Ann wraps up her part while Bob talks: the session goes on.
    control::wrap_up(&engine, ann, xena, "Escalated", "to billing").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "active");
    control::end(&engine, xena, EndedBy::Customer).await.unwrap();
    control::wrap_up(&engine, bob, xena, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "completed");
    let recent = app::desk::snapshot::desk(&pool, bob).await.unwrap().recent;
    assert_eq!(recent[0].representatives, ["Ann Archer", "Bob Baker"]);
    assert_eq!(recent[0].disposition.as_deref(), Some("Resolved"));
    let ann_recent = app::desk::snapshot::desk(&pool, ann).await.unwrap().recent;
    assert_eq!(ann_recent[0].disposition.as_deref(), Some("Escalated"), "each part keeps its own wrap-up");
    assert_eq!(transfers(&pool, xena).await, [("requested".to_owned(), None)]);

    // The metrics: Ann and Bob each handled a part; Billing was offered
    // the transfer, answered by Bob.
    app::metrics::roll::roll(&pool, 5.0).await.unwrap();
    let handled: Vec<(AgentId, i64)> = sqlx::query_as(
        "SELECT representative_id, sum(handled)::bigint FROM metric_buckets WHERE handled > 0 GROUP BY 1 ORDER BY 2",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(handled.len(), 2, "{handled:?}");
    assert!(handled.iter().all(|(_, n)| *n == 1), "{handled:?}");
    let billing_offered: i64 =
        sqlx::query_scalar("SELECT coalesce(sum(offered), 0)::bigint FROM metric_buckets WHERE queue_id = $1")
            .bind(billing)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(billing_offered, 3, "Yuri, Zoe and the transferred Xena");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_transfer_the_target_cannot_take_is_refused_with_the_reason(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let chat_only = common::add_queue(&pool, "Chat desk", "push", "longest_idle").await;
    sqlx::query("UPDATE queues SET channels = '{chat}' WHERE id = $1").bind(chat_only).execute(&pool).await.unwrap();
    let empty = common::add_queue(&pool, "Empty", "push", "longest_idle").await;
    let full = common::add_queue(&pool, "Full", "pull", "longest_idle").await;
    sqlx::query("UPDATE queues SET max_length = 1 WHERE id = $1").bind(full).execute(&pool).await.unwrap();
    let ann = agent(&pool, "Ann", sales).await;
    let out = agent(&pool, "Otto", sales).await;
    let chatter = agent(&pool, "Chad", chat_only).await;
    let busy = agent(&pool, "Bea", sales).await;
    let filler = agent(&pool, "Finn", full).await;
    agents::log_in(&engine, chatter).await.unwrap();
    agents::log_in(&engine, filler).await.unwrap();
    enter(&engine, full, "Already waiting").await;
    ready(&engine, busy).await;
    let bea_customer = talking(&engine, sales, busy, "Bea's customer").await;
    agents::set_not_ready_reason(&engine, busy, "Break").await.unwrap();
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;

    let attempt = |target| {
        let engine = engine.clone();
        async move { transfer::transfer(&engine, ann, &to(xena, target)).await }
    };
    assert_eq!(conflict(attempt(Target::Queue(chat_only)).await), "Chat desk does not take audio customers.");
    assert_eq!(conflict(attempt(Target::Queue(empty)).await), "Nobody is logged in to Empty right now.");
    assert_eq!(conflict(attempt(Target::Queue(full)).await), "Full's line is full right now.");
    assert_eq!(conflict(attempt(Target::Agent(out)).await), "Otto is logged out.");
    assert_eq!(conflict(attempt(Target::Agent(chatter)).await), "Chad serves no queue that takes audio customers.");
    assert_eq!(conflict(attempt(Target::Agent(busy)).await), "Bea has no free place for audio right now.");
    assert!(matches!(attempt(Target::Agent(ann)).await, Err(AppError::Invalid(message)) if message.contains("yourself")));
    // Nothing changed.
    assert_eq!(status_of(&pool, xena).await, "active");
    assert_eq!(seats(&pool, ann).await, (1, 1, 0));
    assert!(transfers(&pool, xena).await.is_empty());
    assert_eq!(status_of(&pool, bea_customer).await, "active");

    // The chain is capped: one transfer allowed, the second refused.
    let cara = agent(&pool, "Cara", sales).await;
    ready(&engine, cara).await;
    let mut once = to(xena, Target::Agent(cara));
    once.max_transfers = 1;
    transfer::transfer(&engine, ann, &once).await.unwrap();
    offers::accept(&engine, cara, xena).await.unwrap();
    let mut again = to(xena, Target::Queue(sales));
    again.max_transfers = 1;
    assert_eq!(
        conflict(transfer::transfer(&engine, cara, &again).await),
        "This customer has been transferred as often as allowed (1 times)."
    );
    // Ann is no longer in this conversation: her transfer is refused.
    assert!(conflict(transfer::transfer(&engine, ann, &to(xena, Target::Queue(sales))).await).contains("not talking"));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_named_transfer_missed_puts_the_customer_back_in_line_and_tells_the_asker(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara Cole", sales).await;
    let dan = agent(&pool, "Dan", sales).await;
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    agents::log_in(&engine, dan).await.unwrap();
    ready(&engine, cara).await;
    // Someone who came later waits: Cara declined them.
    let late_again = enter(&engine, sales, "Later again").await;
    assert_eq!(status_of(&pool, late_again).await, "offered", "Cara is offered the next one");
    offers::unanswered(&engine, cara, late_again, Unanswered::Decline).await.unwrap();

    transfer::transfer(&engine, ann, &to(xena, Target::Agent(cara))).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "offered");
    match customer_view(&pool, xena).await.unwrap() {
        Some(CustomerView::Waiting { back, .. }) => assert_eq!(back, Some(Back::Transferred { to: "Cara".into() })),
        other => panic!("{other:?}"),
    }
    // Cara lets it ring out.
    sqlx::query("UPDATE offers SET expires_at = now() - interval '1 second' WHERE help_session_id = $1")
        .bind(xena)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(offers::expire_offers(&engine).await.unwrap(), 1);
    assert_eq!(status_of(&pool, xena).await, "waiting");
    assert_eq!(line_of(&pool, sales).await, ["Xena", "Later again"], "back at the front, by her first entry");
    assert_eq!(transfers(&pool, xena).await, [("requested".into(), None), ("failed".into(), Some("missed".into()))]);
    let told = app::desk::snapshot::desk(&pool, ann).await.unwrap();
    assert_eq!(
        told.customers[0].outcome.as_deref(),
        Some("Cara Cole did not answer: the customer is back at the front of Sales's line.")
    );
    // The next READY member is offered her as anyone would be.
    agents::set_ready(&engine, dan).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "offered");
    offers::accept(&engine, dan, xena).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "active");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_named_transfer_accepted_or_withdrawn_is_recorded_for_the_asker(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", sales).await;
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    let yuri = enter(&engine, sales, "Yuri").await;
    agents::log_in(&engine, cara).await.unwrap();

    // Accepted: Cara takes Xena.
    transfer::transfer(&engine, ann, &to(xena, Target::Agent(cara))).await.unwrap();
    offers::accept(&engine, cara, xena).await.unwrap();
    assert_eq!(transfers(&pool, xena).await, [("requested".into(), None), ("accepted".into(), None)]);
    let told = app::desk::snapshot::desk(&pool, ann).await.unwrap();
    assert_eq!(told.customers[0].outcome.as_deref(), Some("Cara took the customer."));

    // Withdrawn: Cara transfers Xena back to Ann, who is in wrap-up; Xena
    // leaves before Ann answers: the offer is gone, Ann's seat free.
    control::wrap_up(&engine, ann, xena, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, yuri).await, "offered", "Ann, free again, was offered Yuri");
    offers::unanswered(&engine, ann, yuri, Unanswered::Decline).await.unwrap();
    transfer::transfer(&engine, cara, &to(xena, Target::Agent(ann))).await.unwrap();
    assert_eq!(seats(&pool, ann).await, (1, 1, 0), "the offer holds Ann's seat");
    line::leave(&engine, xena, Left::Cancelled).await.unwrap();
    assert_eq!(seats(&pool, ann).await, (0, 0, 0));
    let offers_left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM offers WHERE help_session_id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    assert_eq!(offers_left, 0);
    assert_eq!(transfers(&pool, xena).await.last().unwrap(), &("failed".to_owned(), Some("the customer left".to_owned())));
    let told = app::desk::snapshot::desk(&pool, cara).await.unwrap();
    assert_eq!(told.customers[0].outcome.as_deref(), Some("The customer left before Ann answered."));
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn racing_transfers_and_holds_leave_one_consistent_state(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let billing = common::add_queue(&pool, "Billing", "pull", "longest_idle").await;
    let support = common::add_queue(&pool, "Support", "pull", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    for (name, queue) in [("Bob", billing), ("Sue", support)] {
        let member = agent(&pool, name, queue).await;
        agents::log_in(&engine, member).await.unwrap();
    }
    ready(&engine, ann).await;
    for round in 0..10 {
        let customer = talking(&engine, sales, ann, &format!("Customer {round}")).await;
        // Two transfers of the same customer at once: one wins, the other
        // is a clear 409.
        let (to_billing, to_support) = (to(customer, Target::Queue(billing)), to(customer, Target::Queue(support)));
        let (first, second) =
            tokio::join!(transfer::transfer(&engine, ann, &to_billing), transfer::transfer(&engine, ann, &to_support));
        assert!(first.is_ok() != second.is_ok(), "{first:?} {second:?}");
        assert!(matches!(first.err().or(second.err()), Some(AppError::Conflict(_))));
        let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM queue_entries WHERE help_session_id = $1")
            .bind(customer)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(waiting, 1, "in exactly one line");
        assert_eq!(seats(&pool, ann).await, (0, 0, 1));
        control::wrap_up(&engine, ann, customer, "Resolved", "").await.unwrap();
        line::leave(&engine, customer, Left::Cancelled).await.unwrap();

        // A transfer and a hold at once: whichever comes second sees the
        // first's effect (a held customer may be transferred; a transferred
        // one cannot be held: 409).
        let customer = talking(&engine, sales, ann, &format!("Held {round}")).await;
        let to_billing = to(customer, Target::Queue(billing));
        let (moved, held) = tokio::join!(transfer::transfer(&engine, ann, &to_billing), control::hold(&engine, ann, customer));
        moved.unwrap();
        if let Err(error) = held {
            assert!(matches!(error, AppError::Conflict(_)), "{error:?}");
        }
        assert_eq!(status_of(&pool, customer).await, "waiting");
        assert_eq!(seats(&pool, ann).await, (0, 0, 1), "no seat leaked either way");
        control::wrap_up(&engine, ann, customer, "Resolved", "").await.unwrap();
        line::leave(&engine, customer, Left::Cancelled).await.unwrap();
    }
}

/// (party, whether media flows either way) of `me`'s peers.
async fn media_of(pool: &PgPool, session: HelpSessionId, me: Side) -> Vec<(String, bool)> {
    peers(pool, session, me)
        .await
        .unwrap()
        .peers
        .into_iter()
        .map(|peer| (peer.party, peer.send != Sends::Nothing || peer.receive))
        .collect()
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_colleague_joins_holds_keep_the_representatives_talking_and_the_owner_hands_on(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", sales).await;
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    agents::log_in(&engine, cara).await.unwrap();

    conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await.unwrap();
    let asked = app::desk::snapshot::desk(&pool, cara).await.unwrap().offers;
    assert_eq!(asked[0].join_with.as_ref().map(|j| (j.asker.as_str(), j.warm)), Some(("Ann", false)));
    assert!(matches!(
        conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await,
        Err(AppError::Conflict(_))
    ));
    offers::accept(&engine, cara, xena).await.unwrap();
    assert_eq!(seats(&pool, cara).await, (1, 1, 0), "the colleague's seat is taken");
    let card = &app::desk::snapshot::desk(&pool, cara).await.unwrap().customers[0];
    assert_eq!((card.role, card.others.clone()), (Role::Conference, vec!["Ann".to_owned()]));
    let (ann_key, cara_key) = (ann.to_string(), cara.to_string());
    // Three-way: every pair exchanges media.
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(ann_key.clone(), true), (cara_key.clone(), true)]);
    assert_eq!(media_of(&pool, xena, Side::Agent(cara)).await, [("customer".to_owned(), true), (ann_key.clone(), true)]);
    // A transfer needs the conversation to be the owner's alone.
    assert!(matches!(transfer::transfer(&engine, ann, &to(xena, Target::Queue(sales))).await, Err(AppError::Conflict(_))));

    // Hold: the customer's pairs stop, the representatives go on talking.
    control::hold(&engine, ann, xena).await.unwrap();
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(ann_key.clone(), false), (cara_key.clone(), false)]);
    assert_eq!(media_of(&pool, xena, Side::Agent(ann)).await, [("customer".to_owned(), false), (cara_key.clone(), true)]);

    // The owner leaves: Cara owns the held conversation; Ann wraps up.
    control::leave(&engine, ann, xena).await.unwrap();
    let owner: AgentId =
        sqlx::query_scalar("SELECT agent_id FROM help_sessions WHERE id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    assert_eq!(owner, cara);
    assert_eq!(seats(&pool, ann).await, (0, 0, 1));
    assert_eq!(seats(&pool, cara).await, (0, 1, 0), "the owner's seat is held with the customer");
    control::resume(&engine, cara, xena).await.unwrap();
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(cara_key.clone(), true)]);
    control::wrap_up(&engine, ann, xena, "Escalated", "").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "active");

    // The last representative leaving ends the conversation.
    control::leave(&engine, cara, xena).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "wrap_up");
    control::wrap_up(&engine, cara, xena, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "completed");
    let kinds: Vec<String> = sqlx::query_scalar("SELECT kind FROM events WHERE help_session_id = $1 ORDER BY id")
        .bind(xena)
        .fetch_all(&pool)
        .await
        .unwrap();
    for kind in ["CONFERENCE", "PARTICIPANT_JOIN", "PARTICIPANT_LEAVE", "END_BY_AGENT"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn ending_a_conference_ends_it_for_everyone_and_withdraws_a_pending_request(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let support = common::add_queue(&pool, "Support", "pull", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", sales).await;
    let sue = agent(&pool, "Sue", support).await;
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    // Nobody in Support is READY: refused with the reason.
    agents::log_in(&engine, sue).await.unwrap();
    assert_eq!(
        conflict(conference::invite(&engine, ann, xena, Target::Queue(support), Joining::Conference).await),
        "Nobody in Support can join right now."
    );
    // Asked through the queue: its READY member is picked.
    agents::set_ready(&engine, sue).await.unwrap();
    conference::invite(&engine, ann, xena, Target::Queue(support), Joining::Conference).await.unwrap();
    offers::accept(&engine, sue, xena).await.unwrap();
    agents::log_in(&engine, cara).await.unwrap();
    conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await.unwrap();
    assert_eq!(seats(&pool, cara).await, (1, 1, 0));

    // The customer ends while Cara is being asked: the request is
    // withdrawn, and both representatives go to wrap-up.
    control::end(&engine, xena, EndedBy::Customer).await.unwrap();
    assert_eq!(seats(&pool, cara).await, (0, 0, 0));
    assert!(app::desk::snapshot::desk(&pool, cara).await.unwrap().offers.is_empty());
    assert_eq!(seats(&pool, ann).await, (0, 0, 1));
    assert_eq!(seats(&pool, sue).await, (0, 0, 1));
    let failed: Option<String> = sqlx::query_scalar(
        "SELECT detail->>'reason' FROM events WHERE help_session_id = $1 AND kind = 'CONFERENCE' AND detail->>'stage' = 'failed'",
    )
    .bind(xena)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(failed.as_deref(), Some("the conversation ended"));
    control::wrap_up(&engine, ann, xena, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "wrap_up", "Sue has not wrapped up yet");
    control::wrap_up(&engine, sue, xena, "Resolved", "").await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "completed");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_request_to_join_missed_or_declined_leaves_the_conversation_as_it_was(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", sales).await;
    ready(&engine, ann).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    ready(&engine, cara).await;

    conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await.unwrap();
    offers::unanswered(&engine, cara, xena, Unanswered::Decline).await.unwrap();
    let card = &app::desk::snapshot::desk(&pool, ann).await.unwrap().customers[0];
    assert_eq!(card.outcome.as_deref(), Some("Cara declined to join."));
    conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await.unwrap();
    sqlx::query("UPDATE offers SET expires_at = now() - interval '1 second' WHERE help_session_id = $1")
        .bind(xena)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(offers::expire_offers(&engine).await.unwrap(), 1);
    let card = &app::desk::snapshot::desk(&pool, ann).await.unwrap().customers[0];
    assert_eq!(card.outcome.as_deref(), Some("Cara did not answer."));
    assert_eq!(status_of(&pool, xena).await, "active");
    assert_eq!(seats(&pool, cara).await, (0, 0, 0));
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(ann.to_string(), true)]);
    // The owner logging out leaves the conversation to the colleague.
    agents::set_ready(&engine, cara).await.unwrap();
    conference::invite(&engine, ann, xena, Target::Agent(cara), Joining::Conference).await.unwrap();
    offers::accept(&engine, cara, xena).await.unwrap();
    agents::hand_back(&engine, ann, "Logged out").await.unwrap();
    let owner: AgentId =
        sqlx::query_scalar("SELECT agent_id FROM help_sessions WHERE id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    assert_eq!(owner, cara, "the owner gone, the colleague goes on with the customer");
    assert_eq!(status_of(&pool, xena).await, "active");
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_warm_transfer_consults_on_hold_then_completes_cancels_or_falls_back(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", sales).await;
    ready(&engine, ann).await;
    agents::log_in(&engine, cara).await.unwrap();
    let warm = Joining::WarmTransfer { max_transfers: 5 };
    let (ann_key, cara_key) = (ann.to_string(), cara.to_string());

    // Asked: the customer waits on hold; Cara joins and talks with Ann
    // only; Ann completes: Cara has the customer, talking.
    let xena = talking(&engine, sales, ann, "Xena").await;
    conference::invite(&engine, ann, xena, Target::Agent(cara), warm).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "on_hold");
    let card = &app::desk::snapshot::desk(&pool, ann).await.unwrap().customers[0];
    assert_eq!(card.warm_transfer.as_ref().map(|w| (w.colleague.as_str(), w.joined)), Some(("Cara", false)));
    assert!(matches!(conference::complete(&engine, ann, xena).await, Err(AppError::Conflict(_))), "nobody joined yet");
    offers::accept(&engine, cara, xena).await.unwrap();
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(ann_key.clone(), false), (cara_key.clone(), false)]);
    assert_eq!(media_of(&pool, xena, Side::Agent(ann)).await, [("customer".to_owned(), false), (cara_key.clone(), true)]);
    conference::complete(&engine, ann, xena).await.unwrap();
    assert_eq!(status_of(&pool, xena).await, "active");
    assert_eq!(media_of(&pool, xena, Side::Customer).await, [(cara_key.clone(), true)]);
    assert_eq!(seats(&pool, ann).await, (0, 0, 1), "Ann's part is in wrap-up");
    assert_eq!(seats(&pool, cara).await, (1, 1, 0));
    let transfers_done: i32 =
        sqlx::query_scalar("SELECT transfers FROM help_sessions WHERE id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    assert_eq!(transfers_done, 1);
    control::wrap_up(&engine, ann, xena, "Escalated", "").await.unwrap();
    control::end(&engine, xena, EndedBy::Agent).await.unwrap();
    control::wrap_up(&engine, cara, xena, "Resolved", "").await.unwrap();

    // Cancelled: the customer is back with Ann, talking; Cara has no
    // wrap-up (she never spoke with the customer).
    let yuri = talking(&engine, sales, ann, "Yuri").await;
    conference::invite(&engine, ann, yuri, Target::Agent(cara), warm).await.unwrap();
    offers::accept(&engine, cara, yuri).await.unwrap();
    conference::cancel(&engine, ann, yuri).await.unwrap();
    assert_eq!(status_of(&pool, yuri).await, "active");
    assert_eq!(media_of(&pool, yuri, Side::Customer).await, [(ann_key.clone(), true)]);
    assert_eq!(seats(&pool, cara).await, (0, 0, 0));
    assert_eq!(seats(&pool, ann).await, (1, 1, 0));

    // Ann ends while Cara is still being asked: the request is withdrawn
    // and Yuri waits at the front of the line.
    enter(&engine, sales, "Zoe").await;
    conference::invite(&engine, ann, yuri, Target::Agent(cara), warm).await.unwrap();
    control::end(&engine, yuri, EndedBy::Agent).await.unwrap();
    assert_eq!(status_of(&pool, yuri).await, "waiting");
    assert_eq!(line_of(&pool, sales).await, ["Yuri", "Zoe"], "Yuri entered first");
    assert_eq!(seats(&pool, cara).await, (0, 0, 0));
    assert_eq!(seats(&pool, ann).await, (0, 0, 1));

    // Ann ends once Cara has joined: Cara takes the customer over. (Ann,
    // free again, is offered Yuri, first in line.)
    control::wrap_up(&engine, ann, yuri, "Resolved", "").await.unwrap();
    offers::accept(&engine, ann, yuri).await.unwrap();
    conference::invite(&engine, ann, yuri, Target::Agent(cara), warm).await.unwrap();
    offers::accept(&engine, cara, yuri).await.unwrap();
    control::end(&engine, yuri, EndedBy::Agent).await.unwrap();
    let owner: AgentId =
        sqlx::query_scalar("SELECT agent_id FROM help_sessions WHERE id = $1").bind(yuri).fetch_one(&pool).await.unwrap();
    assert_eq!((owner, status_of(&pool, yuri).await.as_str()), (cara, "active"));
}

/// A warm transfer to a queue: its next available member is asked (the
/// offer says to take the customer over), and once they have, the customer
/// is that queue's: a lost desk sends them back to its line.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn a_warm_transfer_to_a_queue_leaves_the_customer_in_that_queue(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let billing = common::add_queue(&pool, "Billing", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    let cara = agent(&pool, "Cara", billing).await;
    ready(&engine, ann).await;
    ready(&engine, cara).await;
    let xena = talking(&engine, sales, ann, "Xena").await;
    conference::invite(&engine, ann, xena, Target::Queue(billing), Joining::WarmTransfer { max_transfers: 5 }).await.unwrap();
    let asked = app::desk::snapshot::desk(&pool, cara).await.unwrap().offers;
    assert_eq!(asked[0].join_with.as_ref().map(|j| (j.asker.as_str(), j.warm)), Some(("Ann", true)));
    offers::accept(&engine, cara, xena).await.unwrap();
    conference::complete(&engine, ann, xena).await.unwrap();
    let queue: QueueId =
        sqlx::query_scalar("SELECT queue_id FROM help_sessions WHERE id = $1").bind(xena).fetch_one(&pool).await.unwrap();
    assert_eq!(queue, billing);
    agents::hand_back(&engine, cara, "Lost").await.unwrap();
    assert_eq!(line_of(&pool, billing).await, ["Xena"]);
    assert!(line_of(&pool, sales).await.is_empty());
}

#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn only_the_owner_ends_a_conference_for_everyone(pool: PgPool) {
    let app = common::TestApp::spawn(pool.clone()).await;
    let engine = common::engine(&pool).await;
    let (ann, sales) = common::serving(&app, app::model::Role::Agent, "Sales").await;
    let cara = app.sign_in_as(app::model::Role::Agent).await;
    sqlx::query("INSERT INTO queue_members (queue_id, representative_id) VALUES ($1, $2)")
        .bind(sales)
        .bind(cara.id)
        .execute(&pool)
        .await
        .unwrap();
    ready(&engine, ann.id).await;
    let xena = talking(&engine, sales, ann.id, "Xena").await;
    agents::log_in(&engine, cara.id).await.unwrap();
    conference::invite(&engine, ann.id, xena, Target::Agent(cara.id), Joining::Conference).await.unwrap();
    offers::accept(&engine, cara.id, xena).await.unwrap();

    let id = xena.to_string();
    let refused = app.desk(&cara.client, json!({ "do": "end", "help_session": id })).await;
    assert_eq!(refused.status(), reqwest::StatusCode::CONFLICT);
    assert!(common::error_message(refused).await.contains("leave it instead"));
    assert_eq!(status_of(&pool, xena).await, "active");
    let ended = app.desk(&ann.client, json!({ "do": "end", "help_session": id })).await;
    assert_eq!(ended.status(), reqwest::StatusCode::OK);
    assert_eq!(status_of(&pool, xena).await, "wrap_up");
}

/// Beside a conversation the desk shows the customer's earlier help
/// sessions: the others with the same phone number, newest first, with who
/// served them and how it ended; none for a customer who gave no number.
#[sqlx::test(migrator = "server::database::MIGRATOR")]
async fn the_desk_shows_a_customers_earlier_help_sessions_by_phone(pool: PgPool) {
    let engine = common::engine(&pool).await;
    let sales = common::add_queue(&pool, "Sales", "push", "longest_idle").await;
    let ann = agent(&pool, "Ann", sales).await;
    ready(&engine, ann).await;
    let call = |name: &str, phone: &str| line::NewRequest {
        from_api: None,
        from_widget: None,
        from_address: None,
        language: None,
        queue_id: sales,
        customer_name: name.into(),
        reason: format!("{name} needs help"),
        channel: app::queue::Channel::Audio,
        phone: Some(phone.into()),
        priority: 0,
        window: None,
    };
    // Yesterday's call, served and recorded; a stranger's with another number.
    let before = line::enter(&engine, call("Xena", "+14155550100")).await.unwrap();
    offers::accept(&engine, ann, before).await.unwrap();
    control::end(&engine, before, EndedBy::Customer).await.unwrap();
    control::wrap_up(&engine, ann, before, "Resolved", "Refund sent").await.unwrap();
    let stranger = line::enter(&engine, call("Yuri", "+14155550199")).await.unwrap();
    offers::accept(&engine, ann, stranger).await.unwrap();
    control::end(&engine, stranger, EndedBy::Customer).await.unwrap();
    control::wrap_up(&engine, ann, stranger, "Resolved", "").await.unwrap();

    let now = line::enter(&engine, call("Xena", "+14155550100")).await.unwrap();
    offers::accept(&engine, ann, now).await.unwrap();
    let earlier = app::desk::snapshot::earlier_sessions(&pool, now).await.unwrap();
    let seen: Vec<_> = earlier
        .iter()
        .map(|e| (e.help_session_id, e.status, e.representatives.clone(), e.disposition.as_deref(), e.note.as_deref()))
        .collect();
    assert_eq!(seen, [(before, HelpStatus::Completed, vec!["Ann".to_owned()], Some("Resolved"), Some("Refund sent"))]);
    control::end(&engine, now, EndedBy::Customer).await.unwrap();
    control::wrap_up(&engine, ann, now, "Resolved", "").await.unwrap();
    let nobody = talking(&engine, sales, ann, "Zoe").await;
    assert!(app::desk::snapshot::earlier_sessions(&pool, nobody).await.unwrap().is_empty());
}
