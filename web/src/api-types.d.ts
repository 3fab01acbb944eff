// The API files web/ imports types from use the OpenAPI `tags` that @fastify/swagger adds to route
// schemas; the `sip` package's declarations (reached through the hub) are in web/tsconfig.json.
/// <reference types="@fastify/swagger" />
