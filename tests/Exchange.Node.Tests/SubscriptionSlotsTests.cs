using Exchange.Node.Subscriptions;

namespace Exchange.Node.Tests;

public sealed class SubscriptionSlotsTests
{
    [Fact]
    public void Slots_are_bounded_in_all_and_per_client_and_come_back_when_released()
    {
        var slots = new SubscriptionSlots(capacity: 3, perClient: 2);

        var a1 = slots.TryTake("a", out _);
        var a2 = slots.TryTake("a", out _);
        Assert.Null(slots.TryTake("a", out var perClient));
        Assert.Contains("'a' already has 2", perClient);
        var b1 = slots.TryTake("b", out _);
        Assert.Null(slots.TryTake("c", out var full));
        Assert.Contains("at most 3", full);
        Assert.All(new[] { a1, a2, b1 }, Assert.NotNull);

        a1!.Dispose();
        a1.Dispose();
        Assert.Equal(2, slots.Open);
        Assert.NotNull(slots.TryTake("c", out _));
        Assert.Null(slots.TryTake("a", out _));
    }
}
