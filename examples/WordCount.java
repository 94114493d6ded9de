// The appliance's bounded example: counts the words of a text and ends, so
// the job is FINISHED and the client prints the counts it collected.
//
//   flink run examples/streaming/WordCount.jar [--input FILE]
//
// Without --input it counts a few lines of its own. The file is read by the
// client and shipped with the job, so it needs to exist only where the
// command runs.
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

public class WordCount {
    static final String[] TEXT = {
        "To be, or not to be, that is the question:",
        "Whether 'tis nobler in the mind to suffer",
        "The slings and arrows of outrageous fortune,",
        "Or to take arms against a sea of troubles",
        "And by opposing end them.",
    };

    static class Split implements FlatMapFunction<String, Tuple2<String, Integer>> {
        @Override
        public void flatMap(String line, Collector<Tuple2<String, Integer>> out) {
            for (String word : line.toLowerCase().split("[^\\p{L}']+")) {
                if (!word.isEmpty()) {
                    out.collect(Tuple2.of(word, 1));
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        List<String> lines = new ArrayList<>(List.of(TEXT));
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--input")) {
                lines = Files.readAllLines(Paths.get(args[i + 1]), StandardCharsets.UTF_8);
            }
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // Bounded input in batch mode: one final count per word, not a running one.
        env.setRuntimeMode(RuntimeExecutionMode.BATCH);
        Map<String, Integer> counts = new TreeMap<>();
        try (CloseableIterator<Tuple2<String, Integer>> it = env.fromData(lines).name("text")
                .flatMap(new Split()).name("split")
                .keyBy(t -> t.f0, Types.STRING)
                .sum(1).name("count")
                .executeAndCollect("WordCount")) {
            while (it.hasNext()) {
                Tuple2<String, Integer> t = it.next();
                counts.put(t.f0, t.f1);
            }
        }
        counts.forEach((word, n) -> System.out.println(word + " " + n));
    }
}
