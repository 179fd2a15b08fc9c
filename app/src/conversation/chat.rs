//! The chat of one conversation, the same on both pages: every message in
//! order, live, with replies to earlier messages. The socket sends the
//! whole chat when it connects and then only new messages.

use leptos::prelude::*;

use super::{ChatMessage, SendMessage, MESSAGE_MAX_CHARS};
use crate::states::HelpSessionId;

/// The chat panel. `arrivals`, when given, counts the messages others sent
/// after the chat first loaded (the desk's unread count); `silent`, when
/// true, shows the chat without a way to write (a monitoring supervisor).
/// A supervisor's whispers are marked as such (the customer never gets
/// them).
#[component]
pub fn Chat(
    help_session: HelpSessionId,
    #[prop(optional)] arrivals: Option<RwSignal<usize>>,
    #[prop(optional, into)] silent: Signal<bool>,
) -> impl IntoView {
    let (pushed, set_pushed) = signal(None::<Vec<ChatMessage>>);
    crate::live::follow(format!("/ws/chat?session={help_session}"), set_pushed);
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    // Each push is what this page has not seen yet (a reconnect sends it all
    // again: only messages newer than the last one shown are added).
    let loaded = StoredValue::new(false);
    Effect::new(move |_| {
        if let Some(batch) = pushed.get() {
            let last = messages.with_untracked(|all| all.last().map_or(0, |m| m.id));
            let new: Vec<ChatMessage> = batch.into_iter().filter(|m| m.id > last).collect();
            if let Some(count) = arrivals.filter(|_| loaded.get_value()) {
                count.update(|n| *n += new.iter().filter(|m| !m.mine).count());
            }
            loaded.set_value(true);
            messages.update(|all| all.extend(new));
        }
    });
    let send = ServerAction::<SendMessage>::new();
    let (draft, set_draft) = signal(String::new());
    let replying = RwSignal::new(None::<ChatMessage>);
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match send.value().get() {
        Some(Ok(())) => {
            set_draft.set(String::new());
            replying.set(None);
            error.set(None);
        }
        Some(Err(failure)) => error.set(Some(failure.to_string())),
        None => {}
    });
    let length = move || draft.with(|d| d.chars().count());
    let submit = move || {
        if draft.with(|d| d.trim().is_empty()) {
            return;
        }
        send.dispatch(SendMessage { help_session, body: draft.get(), reply_to: replying.get().map(|m| m.id) });
    };
    let quoted = move |id: i64| {
        messages.with(|all| {
            all.iter().find(|m| m.id == id).map(|m| {
                let short: String = m.body.chars().take(80).collect();
                format!("{}: {short}", m.author)
            })
        })
    };

    view! {
        <section class="chat" aria-label="Chat">
            // A log: a screen reader reads out each new message, never the
            // whole chat again.
            <div role="log" aria-label="Messages" data-testid="chat-log">
            <ol class="messages" data-testid="chat">
                <For each=move || messages.get() key=|m| m.id let:message>
                    {
                        let mine = message.mine;
                        let whisper = !message.role.customer_reads();
                        let reply = message.reply_to.and_then(quoted);
                        let target = message.clone();
                        view! {
                            <li class="message" class:mine=mine class:whisper=whisper data-testid="chat-message">
                                <p class="meta">
                                    {format!("{} · {} · {}", message.author, message.role.label(), message.sent_at)}
                                    {whisper.then_some(" · whisper: the customer can't see it")}
                                </p>
                                {reply.map(|quote| view! { <blockquote class="reply-quote">{quote}</blockquote> })}
                                <p class="body">{message.body.clone()}</p>
                                <button type="button" class="link" on:click=move |_| replying.set(Some(target.clone()))>"Reply"</button>
                            </li>
                        }
                    }
                </For>
            </ol>
            </div>
            {move || replying.get().map(|m| {
                let short: String = m.body.chars().take(80).collect();
                view! {
                    <p class="replying" data-testid="replying">
                        {format!("Replying to {}: {short}", m.author)}
                        " "
                        <button type="button" class="link" on:click=move |_| replying.set(None)>"Cancel"</button>
                    </p>
                }
            })}
            <Show when=move || silent.get()>
                <p class="muted" data-testid="chat-silent">"You are monitoring in silence: whisper or barge in to write."</p>
            </Show>
            <form class="chat-form" hidden=move || silent.get() on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <label class="visually-hidden" for=format!("chat-{help_session}")>"Message"</label>
                <textarea
                    id=format!("chat-{help_session}")
                    rows="2"
                    placeholder="Write a message"
                    prop:value=move || draft.get()
                    on:input=move |ev| set_draft.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" && !ev.shift_key() {
                            ev.prevent_default();
                            submit();
                        }
                    }
                ></textarea>
                <div class="row">
                    <span class="muted" class:error=move || { length() > MESSAGE_MAX_CHARS }>
                        {move || format!("{}/{MESSAGE_MAX_CHARS}", length())}
                    </span>
                    <button type="submit" disabled=move || send.pending().get()>"Send"</button>
                </div>
            </form>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </section>
    }
}
