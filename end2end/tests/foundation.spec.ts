// The foundation, as people use it: the first admin from the setup link, the
// admin adding a representative, sign-in errors, roles, hydration.
import { test, expect } from '@playwright/test';
import { ADMIN, REP, expectAccessible, open, signIn, submitSignIn } from './helpers';

test.describe.configure({ mode: 'serial' });

test('the setup link creates the first admin', async ({ page }) => {
  const link = process.env.SETUP_LINK!;
  expect(link).toContain('/setup?token=');
  await open(page, link);
  await expect(page.getByRole('heading', { name: 'Create the admin account' })).toBeVisible();
  await expectAccessible(page, 'the setup page');

  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Name').fill(ADMIN.name);
  await page.getByLabel(/^Password \(at least/).fill(ADMIN.password);
  await page.getByLabel('Password again').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Create admin' }).click();

  await expect(page.getByRole('heading', { name: 'Admin account created' })).toBeVisible();
  // The link is spent: the page is gone.
  const again = await page.goto(link);
  expect(again?.status()).toBe(404);
});

test('a wrong password shows the error message', async ({ page }) => {
  await submitSignIn(page, ADMIN.email, 'not the password');

  await expect(page.getByRole('alert')).toHaveText('Email or password is incorrect.');
  await expect(page).toHaveURL(/\/login/);
  await expectAccessible(page, 'sign-in, refused');
});

test('the page is hydrated: the password visibility toggle responds', async ({ page }) => {
  await open(page, '/login');
  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toHaveAttribute('type', 'password');

  await page.getByTestId('toggle-password').click();

  await expect(password).toHaveAttribute('type', 'text');
  await expect(page.getByTestId('toggle-password')).toHaveText('Hide');
});

test('the admin signs in and adds a representative on /admin/people', async ({ page }) => {
  const gate = await page.goto('/admin/people');
  expect(gate?.url()).toContain('/login?next=/admin/people');

  await signIn(page, ADMIN.email, ADMIN.password, '/admin/people');
  await expect(page).toHaveURL(/\/admin\/people$/);
  await expect(page.getByRole('heading', { name: 'People' })).toBeVisible();
  await expectAccessible(page, 'the admin\'s people');
  await expect(page.locator(`tr[data-email="${ADMIN.email}"]`)).toBeVisible();

  const form = page.locator('form', { has: page.getByRole('button', { name: 'Add' }) });
  await form.getByLabel('Name').fill(REP.name);
  await form.getByLabel('Email').fill(REP.email);
  await form.getByLabel('Role').selectOption('agent');
  await form.getByLabel(/^First password/).fill(REP.password);
  await form.getByRole('button', { name: 'Add' }).click();

  await expect(page.getByRole('status')).toHaveText(`Added ${REP.name} (Representative).`);
  const row = page.locator(`tr[data-email="${REP.email}"]`);
  await expect(row).toContainText(REP.name);
  await expect(row).toContainText('Active');
  // The form is empty again for the next person.
  await expect(form.getByLabel('Email')).toHaveValue('');
});

test('a duplicate email is refused with a message', async ({ page }) => {
  await signIn(page, ADMIN.email, ADMIN.password, '/admin/people');
  await expect(page).toHaveURL(/\/admin\/people$/);
  const form = page.locator('form', { has: page.getByRole('button', { name: 'Add' }) });
  await form.getByLabel('Name').fill('Someone Else');
  await form.getByLabel('Email').fill(REP.email.toUpperCase());
  await form.getByLabel(/^First password/).fill('another long password');
  await form.getByRole('button', { name: 'Add' }).click();

  await expect(page.getByRole('alert')).toHaveText(`${REP.email.toUpperCase()} already has an account.`);
});

test('the representative signs in, sees the desk, and cannot open /admin', async ({ page }) => {
  await signIn(page, REP.email, REP.password);
  await expect(page).toHaveURL(/\/rep$/);
  await expect(page.getByTestId('desk-name')).toHaveText(REP.name);
  await expect(page.getByTestId('desk-role')).toHaveText('Representative');
  await expectAccessible(page, 'the desk, not ready');
  await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);

  const admin = await page.goto('/admin');
  expect(admin?.status()).toBe(403);
  await expect(page.getByTestId('forbidden')).toBeVisible();
  await expectAccessible(page, 'no access');
  await expect(page.getByText('Your role does not open this page.')).toBeVisible();
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, REP.email, REP.password);
  await expect(page).toHaveURL(/\/rep$/);

  await page.locator('header.topbar').getByRole('button', { name: 'Sign out' }).click();

  await expect(page).toHaveURL(/\/login$/);
  const desk = await page.goto('/rep');
  expect(desk?.url()).toContain('/login?next=/rep');
});

test('an admin disables the representative, who can no longer sign in', async ({ page, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password, '/admin/people');
  await expect(page).toHaveURL(/\/admin\/people$/);
  const row = page.locator(`tr[data-email="${REP.email}"]`);
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('status')).toHaveText(`${REP.name} is disabled and signed out.`);
  await expect(row).toContainText('Disabled');

  const other = await browser.newPage();
  await submitSignIn(other, REP.email, REP.password);
  await expect(other.getByRole('alert')).toHaveText('This account is disabled. Ask an admin to enable it.');
  await other.close();
});
