-- Directory schema 2: a board user's chosen language (NULL: the browser's,
-- then the service center's).
ALTER TABLE board_logins ADD COLUMN language TEXT;
