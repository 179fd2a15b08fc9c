use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::failure;
use super::guard::guarded;
use crate::access::Area;
use crate::language::Language;
use crate::model::{Person, Role};
use crate::people::list_people;
use crate::queue::hours::{DayHours, WEEKDAYS};
use crate::queue::{
    list_queues, CallbackLimits, CallbackRules, Channel, OpeningHours, QueueSettings, QueueWithMembers, RoutingMode, SaveQueue,
    Strategy, Thresholds, WhenNobody,
};

/// `/admin/queues`: an admin creates and edits queues and chooses who serves
/// each.
#[component]
pub fn QueuesPage() -> impl IntoView {
    view! {
        <Title text="Queues"/>
        {guarded(Area::Admin, |_| view! { <Queues/> })}
    }
}

#[component]
fn Queues() -> impl IntoView {
    let save = ServerAction::<SaveQueue>::new();
    let queues = Resource::new(move || save.version().get(), |_| list_queues());
    let people = Resource::new(|| (), |_| list_people());
    let message = move || match save.value().get() {
        Some(Ok(saved)) => {
            Some(view! { <p class="notice" role="status">{format!("Saved \"{}\".", saved.queue.settings.name)}</p> }.into_any())
        }
        Some(Err(error)) => Some(view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()),
        None => None,
    };
    view! {
        <section class="card">
            <h1>"Queues"</h1>
            <p class="muted">"Each queue is a line of customers for one kind of help, with its own rules and team."</p>
            {message}
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (queues, people) = match (queues.await, people.await) {
                    (Ok(queues), Ok(people)) => (queues, people),
                    (Err(error), _) | (_, Err(error)) => return failure(error),
                };
                view! {
                    {queues.into_iter().map(|queue| {
                        let people = people.clone();
                        view! { <QueueEditor existing=Some(queue) people save/> }
                    }).collect_view()}
                    <QueueEditor existing=None people save/>
                }.into_any()
            })}
        </Transition>
    }
}

#[component]
fn QueueEditor(existing: Option<QueueWithMembers>, people: Vec<Person>, save: ServerAction<SaveQueue>) -> impl IntoView {
    let id = existing.as_ref().map(|q| q.queue.id);
    let title = existing.as_ref().map(|q| q.queue.settings.name.clone()).unwrap_or_else(|| "New queue".to_owned());
    // A new queue starts from the same defaults as the database's.
    let q = existing.as_ref().map(|q| q.queue.settings.clone()).unwrap_or_default();
    let name = RwSignal::new(q.name);
    let channels = RwSignal::new(q.channels);
    let mode = RwSignal::new(q.routing_mode);
    let strategy = RwSignal::new(q.strategy);
    let rona = RwSignal::new(q.rona_seconds.to_string());
    let wrap_up = RwSignal::new(q.wrap_up_seconds.to_string());
    let service_level = RwSignal::new(q.service_level_seconds.to_string());
    let max_length = RwSignal::new(q.max_length.map(|n| n.to_string()).unwrap_or_default());
    let max_wait = RwSignal::new(q.max_wait_seconds.map(|n| n.to_string()).unwrap_or_default());
    let when_nobody = RwSignal::new(q.when_nobody);
    let nobody_message = RwSignal::new(q.nobody_message);
    let auto_join = RwSignal::new(q.auto_join);
    let hide_monitoring = RwSignal::new(q.hide_monitoring);
    let language = RwSignal::new(q.language);
    let members = RwSignal::new(existing.as_ref().map(|q| q.members.clone()).unwrap_or_default());
    let supervisors = RwSignal::new(existing.as_ref().map(|q| q.supervisors.clone()).unwrap_or_default());
    let optional = |value: Option<i32>| RwSignal::new(value.map(|n| n.to_string()).unwrap_or_default());
    let wait_amber = optional(q.thresholds.wait_amber_seconds);
    let wait_red = optional(q.thresholds.wait_red_seconds);
    let level_amber = optional(q.thresholds.level_amber_percent);
    let level_red = optional(q.thresholds.level_red_percent);
    let time_zone = RwSignal::new(q.hours.time_zone.clone());
    let day_signals = |pick: fn(&DayHours) -> &String| -> [RwSignal<String>; 7] {
        std::array::from_fn(|index| RwSignal::new(q.hours.day(index as i16 + 1).map(|day| pick(day).clone()).unwrap_or_default()))
    };
    let opens = day_signals(|day| &day.opens);
    let closes = day_signals(|day| &day.closes);
    let closed_dates = RwSignal::new(q.hours.closed_dates.join(", "));
    let rules = q.callbacks;
    let retry = RwSignal::new(rules.retry_seconds.to_string());
    let attempts = RwSignal::new(rules.max_attempts.to_string());
    let notify_position = RwSignal::new(rules.notify_position.to_string());
    let notify_seconds = RwSignal::new(rules.notify_seconds.to_string());
    let front_hold = RwSignal::new(rules.front_hold_seconds.to_string());
    let limits = q.callback_limits;
    let callback_cap = RwSignal::new(limits.cap.to_string());
    let per_address = RwSignal::new(limits.per_address.to_string());
    let expiry = RwSignal::new(limits.expiry_hours.to_string());
    let prefixes = RwSignal::new(limits.prefixes.join(" "));
    let local_error = RwSignal::new(None::<String>);

    let number = |field: &str, raw: String, required: bool| -> Result<Option<i32>, String> {
        let raw = raw.trim().to_owned();
        if raw.is_empty() && !required {
            return Ok(None);
        }
        raw.parse::<i32>().map(Some).map_err(|_| format!("{field} must be a whole number."))
    };
    let submit = move |_| {
        let parsed = (|| {
            let callbacks = CallbackRules {
                retry_seconds: number("Retry delay", retry.get(), true)?.unwrap_or_default(),
                max_attempts: number("Attempts", attempts.get(), true)?.unwrap_or_default(),
                notify_position: number("Notify at position", notify_position.get(), true)?.unwrap_or_default(),
                notify_seconds: number("Notify under", notify_seconds.get(), true)?.unwrap_or_default(),
                front_hold_seconds: number("Front place kept", front_hold.get(), true)?.unwrap_or_default(),
            };
            let callback_limits = CallbackLimits {
                cap: number("Callbacks waiting at most", callback_cap.get(), true)?.unwrap_or_default(),
                per_address: number("Open callbacks per address", per_address.get(), true)?.unwrap_or_default(),
                expiry_hours: number("Callback expiry", expiry.get(), true)?.unwrap_or_default(),
                prefixes: prefixes.get().split([',', ' ']).filter(|p| !p.is_empty()).map(str::to_owned).collect(),
            };
            let days = (0..7)
                .filter_map(|index| {
                    let (open, close) = (opens[index].get(), closes[index].get());
                    let weekday = index as i16 + 1;
                    (!open.trim().is_empty() || !close.trim().is_empty()).then_some(DayHours {
                        weekday,
                        opens: open,
                        closes: close,
                    })
                })
                .collect();
            let closed = closed_dates.get().split([',', ' ']).filter(|d| !d.is_empty()).map(str::to_owned).collect();
            let settings = QueueSettings {
                name: name.get(),
                channels: channels.get(),
                routing_mode: mode.get(),
                strategy: strategy.get(),
                rona_seconds: number("No-answer time", rona.get(), true)?.unwrap_or_default(),
                wrap_up_seconds: number("Wrap-up time", wrap_up.get(), true)?.unwrap_or_default(),
                service_level_seconds: number("Service-level threshold", service_level.get(), true)?.unwrap_or_default(),
                max_length: number("Maximum length", max_length.get(), false)?,
                max_wait_seconds: number("Maximum wait", max_wait.get(), false)?,
                when_nobody: when_nobody.get(),
                nobody_message: nobody_message.get(),
                auto_join: auto_join.get(),
                thresholds: Thresholds {
                    wait_amber_seconds: number("Longest wait amber", wait_amber.get(), false)?,
                    wait_red_seconds: number("Longest wait red", wait_red.get(), false)?,
                    level_amber_percent: number("Service level amber", level_amber.get(), false)?,
                    level_red_percent: number("Service level red", level_red.get(), false)?,
                },
                hide_monitoring: hide_monitoring.get(),
                hours: OpeningHours { time_zone: time_zone.get(), days, closed_dates: closed },
                callbacks,
                callback_limits,
                language: language.get(),
            };
            Ok::<_, String>(SaveQueue { id, settings, members: members.get(), supervisors: supervisors.get() })
        })();
        match parsed {
            Ok(input) => {
                local_error.set(None);
                save.dispatch(input);
            }
            Err(message) => local_error.set(Some(message)),
        }
    };
    let test_id = if id.is_some() { "queue" } else { "new-queue" };
    let text = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));

    view! {
        <section class="card" data-testid=test_id>
            <h2>{title}</h2>
            <div class="grid-form">
                <label>"Name"<input type="text" maxlength="60" prop:value=move || name.get() on:input=text(name)/></label>
                <label>
                    "Routing"
                    <select on:change=move |ev| mode.set(if event_target_value(&ev) == "pull" { RoutingMode::Pull } else { RoutingMode::Push })>
                        <option value="push" selected=mode.get_untracked() == RoutingMode::Push>"Push: offer to an agent"</option>
                        <option value="pull" selected=mode.get_untracked() == RoutingMode::Pull>"Pull: agents press Next customer"</option>
                    </select>
                </label>
                <label>
                    "Language"
                    <select on:change=move |ev| language.set(Language::parse(&event_target_value(&ev)).ok())>
                        <option value="" selected=language.get_untracked().is_none()>"Any: every customer sees it"</option>
                        {Language::ALL.map(|l| view! {
                            <option value=l.as_str() selected=language.get_untracked() == Some(l)>{format!("{}: only customers in {}", l.name(), l.as_str())}</option>
                        })}
                    </select>
                </label>
                <label>
                    "Strategy"
                    <select on:change=move |ev| if let Ok(s) = Strategy::parse(&event_target_value(&ev)) { strategy.set(s) }>
                        {Strategy::ALL.map(|s| view! { <option value=s.as_str() selected=strategy.get_untracked() == s>{s.label()}</option> })}
                    </select>
                </label>
                <label>"No-answer time (s)"<input type="number" min="5" max="300" prop:value=move || rona.get() on:input=text(rona)/></label>
                <label>"Wrap-up time (s)"<input type="number" min="0" max="3600" prop:value=move || wrap_up.get() on:input=text(wrap_up)/></label>
                <label>"Service level within (s)"<input type="number" min="1" max="3600" prop:value=move || service_level.get() on:input=text(service_level)/></label>
                <label>"Maximum length (empty: none)"<input type="number" min="1" prop:value=move || max_length.get() on:input=text(max_length)/></label>
                <label>"Maximum wait in s (empty: none)"<input type="number" min="1" prop:value=move || max_wait.get() on:input=text(max_wait)/></label>
                <label>
                    "When nobody is logged in"
                    <select on:change=move |ev| when_nobody.set(if event_target_value(&ev) == "accept" { WhenNobody::Accept } else { WhenNobody::Refuse })>
                        <option value="refuse" selected=when_nobody.get_untracked() == WhenNobody::Refuse>"Refuse, with the message"</option>
                        <option value="accept" selected=when_nobody.get_untracked() == WhenNobody::Accept>"Let customers wait"</option>
                    </select>
                </label>
            </div>
            <label class="wide">"Message when nobody is logged in"<input type="text" maxlength="500" prop:value=move || nobody_message.get() on:input=text(nobody_message)/></label>
            <fieldset class="channels">
                <legend>"Channels"</legend>
                {Channel::ALL.map(|channel| view! {
                    <label class="choice">
                        <input
                            type="checkbox"
                            prop:checked=move || channels.get().contains(&channel)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                channels.update(|list| {
                                    list.retain(|c| *c != channel);
                                    if on { list.push(channel) }
                                });
                            }
                        />
                        {channel.label()}
                    </label>
                })}
            </fieldset>
            <fieldset class="channels">
                <legend>"Members"</legend>
                <label class="choice">
                    <input type="checkbox" prop:checked=move || auto_join.get() on:change=move |ev| auto_join.set(event_target_checked(&ev))/>
                    "New representatives join automatically"
                </label>
                {people.iter().map(|person| {
                    view! { <PersonChoice person=person.clone() chosen=members what="serves this queue"/> }
                }).collect_view()}
            </fieldset>
            <fieldset class="channels">
                <legend>"Supervisors"</legend>
                {people.iter().filter(|person| person.role >= Role::Supervisor && !person.disabled).map(|person| {
                    view! { <PersonChoice person=person.clone() chosen=supervisors what="supervises this queue"/> }
                }).collect_view()}
                <label class="choice">
                    <input type="checkbox" data-testid="hide-monitoring" prop:checked=move || hide_monitoring.get()
                        on:change=move |ev| hide_monitoring.set(event_target_checked(&ev))/>
                    "Don't tell representatives when a supervisor listens in silence"
                </label>
            </fieldset>
            <fieldset class="hours" data-testid="opening-hours">
                <legend>"Opening hours (both empty: closed that day; every day empty: always open)"</legend>
                <label>"Time zone"<input type="text" maxlength="64" placeholder="Europe/London" prop:value=move || time_zone.get() on:input=text(time_zone)/></label>
                <div class="grid-form week">
                    {WEEKDAYS.iter().enumerate().map(|(index, day)| {
                        let (open, close) = (opens[index], closes[index]);
                        view! {
                            <label>{format!("{day} opens")}<input type="time" prop:value=move || open.get() on:input=text(open)/></label>
                            <label>{format!("{day} closes")}<input type="time" prop:value=move || close.get() on:input=text(close)/></label>
                        }
                    }).collect_view()}
                </div>
                <label class="wide">"Closed dates (2026-12-25, 2026-12-26)"<input type="text" prop:value=move || closed_dates.get() on:input=text(closed_dates)/></label>
            </fieldset>
            <div class="grid-form callbacks">
                <label>"Callback retry delay (s)"<input type="number" min="1" prop:value=move || retry.get() on:input=text(retry)/></label>
                <label>"Callback attempts"<input type="number" min="1" max="20" prop:value=move || attempts.get() on:input=text(attempts)/></label>
                <label>"Notify a customer keeping their place at position"<input type="number" min="1" prop:value=move || notify_position.get() on:input=text(notify_position)/></label>
                <label>"... or when their wait is under (s)"<input type="number" min="0" prop:value=move || notify_seconds.get() on:input=text(notify_seconds)/></label>
                <label>"Front place kept while away (s)"<input type="number" min="1" prop:value=move || front_hold.get() on:input=text(front_hold)/></label>
                <label>"Callbacks waiting at most"<input type="number" min="1" prop:value=move || callback_cap.get() on:input=text(callback_cap)/></label>
                <label>"Open callbacks per address"<input type="number" min="1" prop:value=move || per_address.get() on:input=text(per_address)/></label>
                <label>"A callback not reached expires after (hours)"<input type="number" min="1" max="720" prop:value=move || expiry.get() on:input=text(expiry)/></label>
                <label>"Call only numbers starting with (+44 +1; empty: any)"<input type="text" prop:value=move || prefixes.get() on:input=text(prefixes)/></label>
            </div>
            <div class="grid-form thresholds">
                <label>"Longest wait amber after (s)"<input type="number" min="1" prop:value=move || wait_amber.get() on:input=text(wait_amber)/></label>
                <label>"Longest wait red after (s)"<input type="number" min="1" prop:value=move || wait_red.get() on:input=text(wait_red)/></label>
                <label>"Service level amber under (%)"<input type="number" min="1" max="100" prop:value=move || level_amber.get() on:input=text(level_amber)/></label>
                <label>"Service level red under (%)"<input type="number" min="1" max="100" prop:value=move || level_red.get() on:input=text(level_red)/></label>
            </div>
            {move || local_error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <p><button type="button" on:click=submit disabled=move || save.pending().get()>{if id.is_some() { "Save" } else { "Create queue" }}</button></p>
        </section>
    }
}

/// One person's box in a list of people to choose ("Bo serves this queue").
#[component]
fn PersonChoice(person: Person, chosen: RwSignal<Vec<Uuid>>, what: &'static str) -> impl IntoView {
    let id = person.id;
    view! {
        <label class="choice">
            <input
                type="checkbox"
                aria-label=format!("{} {what}", person.display_name)
                prop:checked=move || chosen.get().contains(&id)
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    chosen.update(|list| {
                        list.retain(|m| *m != id);
                        if on { list.push(id) }
                    });
                }
            />
            {person.display_name.clone()}
        </label>
    }
}
