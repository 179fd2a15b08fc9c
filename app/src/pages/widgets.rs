use leptos::prelude::*;
use leptos_meta::Title;
use uuid::Uuid;

use super::failure;
use super::guard::guarded;
use crate::access::Area;
use crate::customer::QueueChoice;
use crate::widget::{
    list_widgets, AddWidget, DeleteWidget, RotateWidgetSecret, SetWidgetEnabled, UpdateWidget, Widget, WithWidgetSecret,
};

/// `/admin/widgets`: the admin makes the keys websites embed the widget
/// with: which sites may show it, which queues it offers, its colour and
/// greeting, and the secret the site's backend identifies customers with
/// (shown once).
#[component]
pub fn WidgetsPage() -> impl IntoView {
    view! {
        <Title text="Widgets"/>
        {guarded(Area::Admin, |_| view! { <Widgets/> })}
    }
}

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddWidget>,
    update: ServerAction<UpdateWidget>,
    set_enabled: ServerAction<SetWidgetEnabled>,
    rotate: ServerAction<RotateWidgetSecret>,
    delete: ServerAction<DeleteWidget>,
}

#[component]
fn Widgets() -> impl IntoView {
    let actions = Actions {
        add: ServerAction::new(),
        update: ServerAction::new(),
        set_enabled: ServerAction::new(),
        rotate: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let list = Resource::new(
        move || {
            (
                actions.add.version().get(),
                actions.update.version().get(),
                actions.set_enabled.version().get(),
                actions.rotate.version().get(),
                actions.delete.version().get(),
            )
        },
        |_| list_widgets(),
    );
    // The secret just made, shown until the next action; the last refusal.
    let secret = RwSignal::new(None::<WithWidgetSecret>);
    let failed = RwSignal::new(None::<String>);
    let outcome = move |result: Option<Result<Option<WithWidgetSecret>, String>>| match result {
        Some(Ok(made)) => {
            secret.set(made);
            failed.set(None);
        }
        Some(Err(error)) => failed.set(Some(error)),
        None => {}
    };
    Effect::new(move |_| outcome(actions.add.value().get().map(|r| r.map(Some).map_err(|e| e.to_string()))));
    Effect::new(move |_| outcome(actions.rotate.value().get().map(|r| r.map(Some).map_err(|e| e.to_string()))));
    Effect::new(move |_| outcome(actions.update.value().get().map(|r| r.map(|_| None).map_err(|e| e.to_string()))));
    Effect::new(move |_| outcome(actions.set_enabled.value().get().map(|r| r.map(|_| None).map_err(|e| e.to_string()))));
    Effect::new(move |_| outcome(actions.delete.value().get().map(|r| r.map(|_| None).map_err(|e| e.to_string()))));

    view! {
        <section class="card">
            <h1>"Widgets"</h1>
            <p class="muted">
                "A website shows the help panel on its own pages with one line of HTML and a widget key. Only the sites "
                "listed may show it. To tell us who a signed-in customer is, the site's backend signs a token (HS256 "
                "with the widget's secret; claims name, email, sub, aud (the widget key), jti (a new one each time: a token asks for help once) and exp, at most 10 minutes ahead) and the page calls "
                <code>"Switchboard('identify', token)"</code>"."
            </p>
            {move || failed.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || secret.get().map(|made| view! {
                <div class="notice" role="status" data-testid="new-secret">
                    <p>{format!("The secret of {} — copy it now, it is not shown again:", made.widget.name)}</p>
                    <p><code data-testid="secret">{made.secret}</code></p>
                </div>
            })}
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(page) => {
                        let queues = page.queues.clone();
                        let loader = page.loader.clone();
                        view! {
                            {page.widgets.into_iter().map(|widget| view! {
                                <WidgetCard widget queues=queues.clone() loader=loader.clone() actions/>
                            }).collect_view()}
                            <section class="card">
                                <h2>"Add a widget"</h2>
                                <WidgetForm widget=None queues=page.queues actions/>
                            </section>
                        }.into_any()
                    }
                    Err(error) => failure(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn WidgetCard(widget: Widget, queues: Vec<QueueChoice>, loader: String, actions: Actions) -> impl IntoView {
    let id = widget.id;
    let enabled = widget.enabled;
    let snippet = format!("<script src=\"{loader}\" data-key=\"{}\" async></script>", widget.key);
    let (name, key) = (widget.name.clone(), widget.key.clone());
    view! {
        <section class="card" data-widget=name.clone() class:disabled=!enabled>
            <h2>{name.clone()} {(!enabled).then(|| view! { " " <span class="badge">"Disabled"</span> })}</h2>
            <p>"Key: " <code data-testid="widget-key">{key}</code></p>
            <p>"Put this in the site's pages:"</p>
            <pre><code data-testid="snippet">{snippet}</code></pre>
            <WidgetForm widget=Some(widget) queues actions/>
            <div class="row-actions">
                <button type="button" class="secondary" on:click=move |_| {
                    actions.set_enabled.dispatch(SetWidgetEnabled { id, enabled: !enabled });
                }>{if enabled { "Disable" } else { "Enable" }}</button>
                <button type="button" class="secondary" on:click=move |_| {
                    actions.rotate.dispatch(RotateWidgetSecret { id });
                }>"New secret"</button>
                <button type="button" class="secondary" on:click=move |_| {
                    actions.delete.dispatch(DeleteWidget { id });
                }>"Delete"</button>
            </div>
        </section>
    }
}

/// A key's settings: a new one (`widget` none) or one to change.
#[component]
fn WidgetForm(widget: Option<Widget>, queues: Vec<QueueChoice>, actions: Actions) -> impl IntoView {
    let id = widget.as_ref().map(|widget| widget.id);
    let name = RwSignal::new(widget.as_ref().map(|w| w.name.clone()).unwrap_or_default());
    let origins = RwSignal::new(widget.as_ref().map(|w| w.origins.join("\n")).unwrap_or_default());
    let chosen = RwSignal::new(widget.as_ref().map(|w| w.queues.clone()).unwrap_or_default());
    let accent = RwSignal::new(widget.as_ref().map(|w| w.accent.clone()).unwrap_or_else(|| "#2457c5".to_owned()));
    let greeting = RwSignal::new(
        widget.as_ref().map(|w| w.greeting.clone()).unwrap_or_else(|| "Hi! Talk to our team by video, voice or chat.".to_owned()),
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, origins, queues, accent, greeting) = (name.get(), origins.get(), chosen.get(), accent.get(), greeting.get());
        match id {
            Some(id) => {
                actions.update.dispatch(UpdateWidget { id, name, origins, queues, accent, greeting });
            }
            None => {
                actions.add.dispatch(AddWidget { name, origins, queues, accent, greeting });
            }
        }
    };
    view! {
        <form on:submit=submit>
            <div class="grid-form">
                <label>
                    "Name"
                    <input type="text" maxlength="100" required prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>
                    "Allowed sites (one per line, e.g. https://shop.example)"
                    <textarea rows="3" required prop:value=move || origins.get() on:input=move |ev| origins.set(event_target_value(&ev))></textarea>
                </label>
                <label>
                    "Greeting"
                    <input type="text" maxlength="300" required prop:value=move || greeting.get() on:input=move |ev| greeting.set(event_target_value(&ev))/>
                </label>
                <label>
                    "Colour"
                    <input type="color" prop:value=move || accent.get() on:input=move |ev| accent.set(event_target_value(&ev))/>
                </label>
            </div>
            <fieldset class="channels">
                <legend>"Queues offered"</legend>
                {queues.into_iter().map(|queue| {
                    let queue_id: Uuid = queue.id;
                    view! {
                        <label>
                            <input
                                type="checkbox"
                                prop:checked=move || chosen.get().contains(&queue_id)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|list| {
                                        list.retain(|other| *other != queue_id);
                                        if on {
                                            list.push(queue_id);
                                        }
                                    });
                                }
                            />
                            {queue.name}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <button type="submit">{if id.is_some() { "Save" } else { "Add widget" }}</button>
        </form>
    }
}
