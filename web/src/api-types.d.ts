// The API files web/ imports types from use the OpenAPI `tags` that @fastify/swagger adds to route schemas.
/// <reference types="@fastify/swagger" />
