// The appliance's streaming example: an endless sequence of numbers at a
// steady rate, a running count per key kept in Flink's keyed state, and a
// checkpoint every few seconds. A restart from a checkpoint or a savepoint
// continues every count where it stood, which is what makes it the job to
// watch through a failover or an upgrade.
//
//   flink run --detached examples/streaming/StateCount.jar [--rate N] [--keys K]
//       [--checkpoint-interval MS] [--print-every C]
//
// --rate: numbers per second per parallel instance (10); --keys: how many
// counters (8); --checkpoint-interval: milliseconds (5000); --print-every:
// print "key=K count=C" to the TaskManager's stdout when C is a multiple of
// it (10), so the log shows progress without a line per number.
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

public class StateCount {
    static long option(String[] args, String name, long fallback) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--" + name)) {
                long v = Long.parseLong(args[i + 1]);
                if (v < 1) {
                    throw new IllegalArgumentException("--" + name + " " + args[i + 1] + ": expected a positive integer");
                }
                return v;
            }
        }
        return fallback;
    }

    public static void main(String[] args) throws Exception {
        long rate = option(args, "rate", 10);
        long keys = option(args, "keys", 8);
        long every = option(args, "print-every", 10);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.enableCheckpointing(option(args, "checkpoint-interval", 5000));
        env.fromSequence(1, Long.MAX_VALUE).uid("sequence").name("sequence")
                .map(new Pace(rate)).uid("pace").name("pace")
                .keyBy(n -> n % keys, Types.LONG)
                .map(new CountPerKey(keys)).uid("count").name("count per key")
                .filter(t -> t.f2 % every == 0).uid("sample").name("every " + every + "th")
                .map(t -> "key=" + t.f1 + " count=" + t.f2).returns(Types.STRING).uid("format").name("format")
                .print().uid("print").name("stdout");
        env.execute("StateCount");
    }
}
