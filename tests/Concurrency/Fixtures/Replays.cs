namespace Monolith.Tests.Concurrency.Fixtures;

internal static class Replays
{
    /// <summary>
    /// Sends a committed command again with its idempotency key. Only the original answer is right: another
    /// operation, a refusal or a 409 is a violation, described in words.
    /// </summary>
    public static async Task<string?> ViolationAsync<T>(string key, object original, Func<Task<T>> replay, Func<T, object> operation)
    {
        try
        {
            var answered = operation(await replay());
            return Equals(answered, original) ? null : $"replay of key {key} answered operation {answered}, the original was {original}";
        }
        catch (Exception e)
        {
            return $"replay of key {key} answered {e.GetType().Name} ({e.Message}) instead of the original operation {original}";
        }
    }
}
