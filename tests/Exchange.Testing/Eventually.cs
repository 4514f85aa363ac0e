namespace Exchange.Testing;

/// <summary>Waits for a condition that other processes or threads will make true, with a deadline.</summary>
public static class Eventually
{
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(condition, () => what, timeout);

    /// <summary>With the description built when it fails, so that it can say what state things were left in.</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"still not true after {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds}s: {what()}");
            }
            await Task.Delay(100);
        }
    }
}
