"""GraphQL at ``/api/beta/graphql`` (strawberry): queries, mutations, and subscriptions over
graphql-transport-ws, with GraphiQL on ``GET``. docs/graphql.md shows the schema in use."""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from apg_workflow.api.graphql.context import Context, accept_connection, context_of
from apg_workflow.api.graphql.schema import schema

PATH = "/api/beta/graphql"


class LiveGraphQLRouter(GraphQLRouter[Context, None]):
    """Strawberry's router, authenticating subscription connections at ``connection_init``."""

    async def on_ws_connect(self, context: Context) -> None:  # type: ignore[override]
        await accept_connection(context)


def graphql_router() -> LiveGraphQLRouter:
    """The router to include at :data:`PATH` (it is not part of the REST OpenAPI document)."""
    return LiveGraphQLRouter(
        schema,
        context_getter=context_of,
        graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        include_in_schema=False,
    )


__all__ = ["PATH", "graphql_router", "schema"]
