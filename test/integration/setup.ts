// Generous: these tests wait for real Elasticsearch restarts and queue drains; each wait has its own deadline.
jest.setTimeout(240_000);
