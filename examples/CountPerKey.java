// Shared by the example jobs: the keyed state. One counter per key (the
// number modulo the count of keys), in Flink's checkpoints; each number
// comes out as (number, key, the key's count so far).
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;

public class CountPerKey extends RichMapFunction<Long, Tuple3<Long, Long, Long>> {
    private final long keys;
    private transient ValueState<Long> count;

    public CountPerKey(long keys) {
        this.keys = keys;
    }

    @Override
    public Tuple3<Long, Long, Long> map(Long n) throws Exception {
        // Asked for here rather than in open(): open's signature differs between Flink 1.x and 2.x.
        if (count == null) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }
        long c = count.value() == null ? 1 : count.value() + 1;
        count.update(c);
        return Tuple3.of(n, n % keys, c);
    }
}
