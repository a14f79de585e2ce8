namespace IdentityHub.Core.Tests;

/// <summary>Revisions (ETags) of editable records: every update's is new, whatever the clock says.</summary>
public sealed class RevisionTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Theory]
    // previous (ticks after noon), now (ticks after noon), expected (ms after noon)
    [InlineData(0, 5 * TimeSpan.TicksPerMillisecond, 5)] // an update later than the last one: now
    [InlineData(0, 0, 1)] // the same millisecond: one more
    [InlineData(0, 9_999, 1)] // within the same millisecond: one more
    [InlineData(3 * TimeSpan.TicksPerMillisecond, 0, 4)] // the clock lags behind the last update (another node): still one more
    [InlineData(2 * TimeSpan.TicksPerMillisecond + 123, 0, 3)] // a legacy revision with sub-millisecond ticks: whole milliseconds again
    public void After_PreviousAndNow_IsLaterThanPreviousInWholeMilliseconds(long previousTicks, long nowTicks, int expectedMilliseconds)
    {
        var next = Revision.After(Noon.AddTicks(previousTicks), new FixedClock(Noon.AddTicks(nowTicks)));

        Assert.Equal(Noon.AddMilliseconds(expectedMilliseconds), next);
        Assert.NotEqual(Revision.ETag(Noon.AddTicks(previousTicks)), Revision.ETag(next));
    }

    [Fact]
    public void Check_ETagOfAnEarlierUpdateInTheSameMillisecond_IsStale()
    {
        var clock = new FixedClock(Noon);
        var created = Revision.Now(clock);
        var updated = Revision.After(created, clock);

        var error = Assert.Throws<RuleViolation>(() => Revision.Check("role", updated, Revision.Of(created)));

        Assert.Equal(ViolationKind.Stale, error.Kind);
    }
}
