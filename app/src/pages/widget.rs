use leptos::prelude::*;
use leptos_meta::{Stylesheet, Title};
use leptos_router::hooks::use_query_map;

use super::embedded::Embedded;
use super::guard::urlencode;
use super::home::RequestForm;
use crate::customer::my_help;
use crate::widget::bridge::{self, Status};
use crate::widget::{identify, widget_panel, Identity, Panel};

/// `/widget?key=…`: the customer experience inside a website's widget,
/// framed only by the key's sites (the server sets `frame-ancestors`).
#[component]
pub fn WidgetPage() -> impl IntoView {
    let key = use_query_map().with_untracked(|query| query.get("key").unwrap_or_default());
    let theme = format!("/widget/theme.css?key={}", urlencode(&key));
    let panel = Resource::new_blocking(move || key.clone(), widget_panel);
    let mine = Resource::new_blocking(|| (), |_| my_help());
    view! {
        <Title text="Help"/>
        <Stylesheet id="widget-theme" href=theme/>
        <div class="widget-panel">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match (panel.await, mine.await) {
                        (Ok(panel), Ok(mine)) => view! { <PanelView panel mine/> }.into_any(),
                        (Err(error), _) | (_, Err(error)) => view! {
                            <section class="card narrow">
                                <h1>"Help is not available here"</h1>
                                <p class="error" role="alert">{error.to_string()}</p>
                            </section>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn PanelView(panel: Panel, mine: Option<crate::customer::CustomerView>) -> impl IntoView {
    let identity = RwSignal::new(None::<(String, Identity)>);
    let queues = panel.queues;
    let embedded = Embedded { key: panel.key.clone(), queues: queues.clone(), identity };
    provide_context(embedded);
    let key = panel.key;
    let origins = panel.origins;
    let refused = RwSignal::new(None::<String>);
    // The host page hands over who the customer is; the server checks the
    // site's signature before the panel shows (or sends) it.
    Effect::new(move |_| {
        let key = key.clone();
        bridge::listen(origins.clone(), move |token| {
            let key = key.clone();
            leptos::task::spawn_local(async move {
                match identify(key, token.clone()).await {
                    Ok(who) => {
                        refused.set(None);
                        identity.set(Some((token, who)));
                    }
                    Err(error) => refused.set(Some(error.to_string())),
                }
            });
        });
    });
    match mine {
        Some(view) => view! {
            <Suspense fallback=|| ()>{Suspend::new(async move { super::home::waiting_part().await(view) })}</Suspense>
        }
        .into_any(),
        None => {
            Effect::new(|_| bridge::tell(Status::Form));
            view! {
                <p class="lead" data-testid="greeting">{panel.greeting}</p>
                {move || refused.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <RequestForm queues/>
            }
            .into_any()
        }
    }
}
