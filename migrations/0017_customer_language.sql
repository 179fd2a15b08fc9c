-- The customer's language (a BCP 47 tag of the customer side: en, de, fr,
-- es, pt-BR, ar), from their browser or the API client that asked for them;
-- the representative sees it on the offer and the conversation. NULL for
-- help sessions made before it was kept, and when the API did not say.
ALTER TABLE help_sessions ADD COLUMN language text;

-- A queue for customers of one language only ("Deutsch"); NULL: any.
ALTER TABLE queues ADD COLUMN language text;
