using System.Net.Http.Json;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Concurrency.Fixtures;

internal static class Api
{
    /// <summary>
    /// POSTs <paramref name="body"/> as JSON with an Idempotency-Key, which every money-moving POST requires: the one
    /// given, to replay it, or a fresh one.
    /// </summary>
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string path, object body, string? idempotencyKey = null,
        CancellationToken ct = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add(IIdempotentCommand.Header, idempotencyKey ?? Guid.NewGuid().ToString());
        return client.SendAsync(request, ct);
    }
}
