use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;

use super::failure;
use super::guard::guarded;
use super::when;
use crate::access::Area;
use crate::error::AppError;
use crate::model::{NewPassword, Person, Role};
use crate::people::{list_people, AddPerson, ChangeRole, ResetPassword, SetDisabled};

/// `/admin/people`: the admin manages who can sign in and with which role.
#[component]
pub fn PeoplePage() -> impl IntoView {
    view! {
        <Title text="People"/>
        {guarded(Area::Admin, |_| view! { <People/> })}
    }
}

/// What the last action did, shown above the list.
#[derive(Clone)]
enum Notice {
    Done(String),
    Failed(String),
}

#[derive(Clone, Copy)]
struct Actions {
    change_role: ServerAction<ChangeRole>,
    set_disabled: ServerAction<SetDisabled>,
    reset_password: ServerAction<ResetPassword>,
}

/// Turns an action's answer into the notice, once per answer.
fn report<A>(action: ServerAction<A>, notice: RwSignal<Option<Notice>>, done: fn(&Person) -> String)
where
    A: leptos::server_fn::ServerFn<Output = Person, Error = AppError> + Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(person)) => notice.set(Some(Notice::Done(done(&person)))),
        Some(Err(error)) => notice.set(Some(Notice::Failed(error.to_string()))),
        None => {}
    });
}

#[component]
fn People() -> impl IntoView {
    let add = ServerAction::<AddPerson>::new();
    let actions =
        Actions { change_role: ServerAction::new(), set_disabled: ServerAction::new(), reset_password: ServerAction::new() };
    let people = Resource::new(
        move || {
            (
                add.version().get(),
                actions.change_role.version().get(),
                actions.set_disabled.version().get(),
                actions.reset_password.version().get(),
            )
        },
        |_| list_people(),
    );

    let notice = RwSignal::new(None::<Notice>);
    report(add, notice, |person| format!("Added {} ({}).", person.display_name, person.role.label()));
    report(actions.change_role, notice, |person| format!("{} is now {}.", person.display_name, person.role.label()));
    report(actions.set_disabled, notice, |person| {
        let state = if person.disabled { "disabled and signed out" } else { "enabled" };
        format!("{} is {state}.", person.display_name)
    });
    report(actions.reset_password, notice, |person| {
        format!("New password set for {}; their open sessions have ended.", person.display_name)
    });

    // Empty the add form after a person is added, so the next one starts clean.
    let add_form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            if let Some(form) = add_form.get() {
                form.reset();
            }
        }
    });

    view! {
        <section class="card">
            <h1>"People"</h1>
            {move || notice.get().map(|notice| match notice {
                Notice::Done(message) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
                Notice::Failed(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match people.await {
                        Ok(people) => view! { <PeopleTable people actions/> }.into_any(),
                        Err(error) => failure(error),
                    }
                })}
            </Transition>
        </section>
        <section class="card">
            <h2>"Add a representative"</h2>
            <ActionForm action=add node_ref=add_form>
                <div class="grid-form">
                    <label>"Name"<input type="text" name="display_name" maxlength="100" required/></label>
                    <label>"Email"<input type="email" name="email" required/></label>
                    <label>
                        "Role"
                        <select name="role">
                            {Role::ALL.map(|role| view! { <option value=role.as_str()>{role.label()}</option> })}
                        </select>
                    </label>
                    <label>
                        {format!("First password (at least {} characters)", NewPassword::MIN_CHARS)}
                        <input type="password" name="password" autocomplete="new-password" required/>
                    </label>
                    <button type="submit" disabled=move || add.pending().get()>"Add"</button>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PeopleTable(people: Vec<Person>, actions: Actions) -> impl IntoView {
    view! {
        <table data-testid="people">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th>"Email"</th>
                    <th>"Role"</th>
                    <th>"Status"</th>
                    <th>"Last sign-in"</th>
                    <th>"Actions"</th>
                </tr>
            </thead>
            <tbody>
                {people.into_iter().map(|person| view! { <PersonRow person actions/> }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn PersonRow(person: Person, actions: Actions) -> impl IntoView {
    let id = person.id;
    let disabled = person.disabled;
    let current_role = person.role;
    view! {
        <tr data-email=person.email.clone() class:disabled=disabled>
            <td>{person.display_name.clone()}</td>
            <td>{person.email.clone()}</td>
            <td>
                <select
                    aria-label=format!("Role of {}", person.display_name)
                    on:change=move |ev| {
                        actions.change_role.dispatch(ChangeRole { id, role: event_target_value(&ev) });
                    }
                >
                    {Role::ALL.map(|role| view! {
                        <option value=role.as_str() selected=role == current_role>{role.label()}</option>
                    })}
                </select>
            </td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td>{when(person.last_sign_in_at)}</td>
            <td class="row-actions">
                <button
                    type="button"
                    class="secondary"
                    on:click=move |_| {
                        actions.set_disabled.dispatch(SetDisabled { id, disabled: !disabled });
                    }
                >
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <details>
                    <summary>"Reset password"</summary>
                    <ActionForm action=actions.reset_password>
                        <input type="hidden" name="id" value=id.to_string()/>
                        <input
                            type="password"
                            name="password"
                            aria-label=format!("New password for {}", person.display_name)
                            autocomplete="new-password"
                            required
                        />
                        <button type="submit">"Set password"</button>
                    </ActionForm>
                </details>
            </td>
        </tr>
    }
}
