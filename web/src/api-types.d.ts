// The API files web/ imports types from use the OpenAPI `tags` that @fastify/swagger adds to route
// schemas, and (through the hub) the declarations of the `sip` package.
/// <reference types="@fastify/swagger" />
/// <reference path="../../sip/kirm-sip.d.ts" />
