using System.Collections.Concurrent;
using FluentValidation;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Monolith.Shared.Behaviors;

namespace Monolith.Shared.Endpoints;

/// <summary>
/// The problem responses of a route follow from the request it sends, so they are derived here, once, instead of
/// being listed by hand on every route:
/// <list type="bullet">
/// <item>401 on every route: the API requires a bearer token (403 is declared by <see cref="OperatorOnly"/>);</item>
/// <item>400 when the request has a validator, the route reads a body, or it names a resource by an {id} (a UUID, or a 400);</item>
/// <item>404 when the route names a resource by an {id};</item>
/// <item>for a command, 409 (the strategy gave up), 422 (a rule or a constraint refused it, or its idempotency key was
/// used for another request) and 503 (the lock service is down, or the write queue is full).</item>
/// </list>
/// A route declares only what is its own, such as a 404 for ids in its body.
/// </summary>
public static class RequestConventions
{
    /// <summary>Names the request this route sends through MediatR; <see cref="WithRequestConventions"/> derives its problem responses from it.</summary>
    public static RouteHandlerBuilder Sends<TRequest>(this RouteHandlerBuilder route) =>
        route.WithMetadata(new SendsRequest(typeof(TRequest)));

    /// <summary>
    /// Limits the route to callers with the operator role: an authenticated owner gets 403. The handler checks the
    /// role again, for the callers that send its command in process.
    /// </summary>
    public static RouteHandlerBuilder OperatorOnly(this RouteHandlerBuilder route) =>
        route.RequireAuthorization(new AuthorizeAttribute { Roles = Access.Caller.OperatorRole })
            .WithMetadata(new ProblemResponse(StatusCodes.Status403Forbidden));

    /// <summary>Applies the derived problem responses to every route of the group that says what it sends.</summary>
    public static TBuilder WithRequestConventions<TBuilder>(this TBuilder group) where TBuilder : IEndpointConventionBuilder
    {
        group.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<SendsRequest>().FirstOrDefault() is not { } sends) return;
            var declared = endpoint.Metadata.OfType<IProducesResponseTypeMetadata>().Select(m => m.StatusCode).ToHashSet();
            foreach (var status in ProblemStatuses(sends.RequestType, endpoint))
                if (declared.Add(status)) endpoint.Metadata.Add(new ProblemResponse(status));
        });
        return group;
    }

    /// <summary>The problem statuses a route sending <paramref name="request"/> can answer, by the rules above.</summary>
    public static IEnumerable<int> ProblemStatuses(Type request, EndpointBuilder endpoint)
    {
        yield return StatusCodes.Status401Unauthorized;
        var namesAnId = endpoint is RouteEndpointBuilder { RoutePattern: var pattern } && pattern.GetParameter("id") is not null;
        if (HasValidator(request) || endpoint.Metadata.OfType<IAcceptsMetadata>().Any() || namesAnId) yield return StatusCodes.Status400BadRequest;
        if (namesAnId) yield return StatusCodes.Status404NotFound;
        if (IsCommand(request))
        {
            yield return StatusCodes.Status409Conflict;
            yield return StatusCodes.Status422UnprocessableEntity;
            yield return StatusCodes.Status503ServiceUnavailable;
        }
    }

    static readonly ConcurrentDictionary<Type, bool> Validated = new();

    static bool HasValidator(Type request) => Validated.GetOrAdd(request, r =>
        r.Assembly.GetTypes().Any(t => !t.IsAbstract && typeof(IValidator<>).MakeGenericType(r).IsAssignableFrom(t)));

    static bool IsCommand(Type request) =>
        request.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(ICommand<>));

    sealed record SendsRequest(Type RequestType);

    sealed class ProblemResponse(int status) : IProducesResponseTypeMetadata
    {
        public Type? Type => typeof(ProblemDetails);
        public int StatusCode => status;
        public IEnumerable<string> ContentTypes => ["application/problem+json"];
        public string? Description => null;
    }
}
