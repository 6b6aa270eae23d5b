// A browser step waits for what the page shows (each wait has its own deadline); this bounds a whole test.
jest.setTimeout(180_000);
