// SPDX-License-Identifier: Apache-2.0
/*
 * Test-only: Apache Kafka's Java client (kafka-clients 4.1.1, pinned in
 * tests/kafka/pom.xml) against sluice-store.  One check per output line:
 * "PASS <check> [<seconds>s]", "FAIL <check> [<seconds>s]: <why>" or
 * "SKIP <check>: <API> vN not advertised" (the last only when --apis, the
 * store's own ApiVersions answer, lacks an API or version the check needs).
 * Exit code 1 when a check failed.
 *
 *   java -cp build/java:'build/kafka-jars/*' SluiceClientTest [--apis K:MIN-MAX,...]
 *        BOOTSTRAP produce|consume|admin|static|txn...
 *   ... SluiceClientTest [--apis ...] BOOTSTRAP serve
 *
 * "serve" keeps one JVM for a whole test (a JVM start costs 1-2 s of CPU):
 * it reads tab-separated commands on stdin, "OUT IN checks GROUP..." or
 * "OUT IN tool MAINCLASS ARG...", runs each with System.out/err sent to the
 * file OUT and System.in read from the file IN ("-": empty), and answers
 * "END <exit code>".  Kafka's command-line tools run in-process through
 * their main class the way Kafka's own tool tests do: Exit's procedures are
 * replaced so Exit.exit() ends the tool, not the JVM, and the shutdown hooks
 * a tool registers (the console producer's flush-and-close) run after it,
 * as the JVM would run them at exit.
 */

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Exit;

public final class SluiceClientTest {
	// API keys the checks need beyond the basics (names for the SKIP line)
	static final int LIST_OFFSETS = 2, METADATA = 3, JOIN_GROUP = 11, CREATE_TOPICS = 19,
			 DELETE_RECORDS = 21, ADD_PARTITIONS_TO_TXN = 24, ADD_OFFSETS_TO_TXN = 25,
			 END_TXN = 26, TXN_OFFSET_COMMIT = 28, CREATE_PARTITIONS = 37,
			 DELETE_GROUPS = 42, INCREMENTAL_ALTER_CONFIGS = 44;
	static final Map<Integer, String> API_NAMES = Map.ofEntries(
		Map.entry(2, "ListOffsets"), Map.entry(3, "Metadata"), Map.entry(11, "JoinGroup"),
		Map.entry(19, "CreateTopics"), Map.entry(21, "DeleteRecords"),
		Map.entry(24, "AddPartitionsToTxn"), Map.entry(25, "AddOffsetsToTxn"),
		Map.entry(26, "EndTxn"), Map.entry(28, "TxnOffsetCommit"),
		Map.entry(37, "CreatePartitions"), Map.entry(42, "DeleteGroups"),
		Map.entry(44, "IncrementalAlterConfigs"));
	static final String PAD = " the quick brown fox jumps over the lazy dog, again and again";
	static final Pattern SEQ = Pattern.compile("seq=(\\d+)");
	static final Duration POLL = Duration.ofMillis(100);
	static final long T = 30; // seconds, any single admin call or wait

	static String bootstrap;
	static Map<Integer, int[]> apis; // key -> {min, max}; null: assume all
	static int failures;
	// state handed from the consume checks to the admin group checks
	static final String GROUP = "jv-g";
	static Map<TopicPartition, OffsetAndMetadata> committedByA;
	static List<ConsumerRecord<String, String>> seenByA;
	// tool runs (serve mode)
	static Integer exitCode;
	static final List<Runnable> hooks = new ArrayList<>();
	static FileOutputStream outFile; // the command's output, and where the tool exited in it
	static PrintStream outStream;
	static long exitMark = -1;

	interface Body {
		void run() throws Exception;
	}

	static final class ToolExit extends Error {
		ToolExit(int code) {
			super("exit " + code, null, false, false);
		}
	}

	// ------------------------------------------------------------ plumbing

	static void expect(boolean ok, String fmt, Object... args) {
		if (!ok)
			throw new AssertionError(String.format(fmt, args));
	}

	static String why(Throwable t) {
		while ((t instanceof ExecutionException || t instanceof
								   InvocationTargetException) &&
		       t.getCause() != null)
			t = t.getCause();
		String s = t instanceof AssertionError
				   ? String.valueOf(t.getMessage())
				   : t.getClass().getSimpleName() + ": " + t.getMessage();
		Throwable c = t.getCause();
		if (c != null && c != t && !(t instanceof AssertionError))
			s += " (cause " + c.getClass().getSimpleName() + ": " + c.getMessage() +
			     ")";
		return s.replace('\n', ' ');
	}

	static boolean advertised(int key, int version) {
		int[] v = apis == null ? null : apis.get(key);
		return apis == null || (v != null && v[1] >= version);
	}

	/** needs: pairs of (API key, minimum version) the check cannot run without. */
	static void check(String name, int[] needs, Body body) {
		for (int i = 0; i + 1 < needs.length; i += 2) {
			if (!advertised(needs[i], needs[i + 1])) {
				System.out.printf(
					"SKIP %s: %s v%d not advertised%n", name,
					API_NAMES.getOrDefault(needs[i], "API " + needs[i]),
					needs[i + 1]);
				return;
			}
		}
		long t0 = System.nanoTime();
		String res, reason = "";
		try {
			body.run();
			res = "PASS " + name;
		} catch (Throwable t) {
			failures++;
			res = "FAIL " + name;
			reason = ": " + why(t);
		}
		System.out.printf("%s [%.1fs]%s%n", res, (System.nanoTime() - t0) / 1e9, reason);
		System.out.flush();
	}

	static void check(String name, Body body) {
		check(name, new int[0], body);
	}

	static Properties props(String... kv) {
		Properties p = new Properties();
		p.put("bootstrap.servers", bootstrap);
		for (int i = 0; i + 1 < kv.length; i += 2)
			p.put(kv[i], kv[i + 1]);
		return p;
	}

	static Admin admin() {
		return Admin.create(
			props("request.timeout.ms", "15000", "default.api.timeout.ms", "30000"));
	}

	static KafkaProducer<String, String> producer(String... kv) {
		Properties p = props("acks", "all", "enable.idempotence", "true", "linger.ms", "10",
				     "delivery.timeout.ms", "60000", "max.block.ms", "30000");
		for (int i = 0; i + 1 < kv.length; i += 2)
			p.put(kv[i], kv[i + 1]);
		return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
	}

	static KafkaConsumer<String, String> consumer(String group, String... kv) {
		Properties p =
			props("auto.offset.reset", "earliest", "enable.auto.commit", "false",
			      "session.timeout.ms", "10000", "heartbeat.interval.ms", "500",
			      "max.poll.interval.ms", "20000", "default.api.timeout.ms", "30000");
		if (group != null)
			p.put("group.id", group);
		for (int i = 0; i + 1 < kv.length; i += 2)
			p.put(kv[i], kv[i + 1]);
		return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
	}

	static String event(int seq, String tag) {
		return "seq=" + seq + " " + tag + PAD;
	}

	static int seqOf(String v) {
		Matcher m = SEQ.matcher(v == null ? "" : v);
		expect(m.find(), "value without seq=: %s", v);
		return Integer.parseInt(m.group(1));
	}

	static void createTopic(Admin a, String name, int parts, Map<String, String> cfg)
		throws Exception {
		try {
			a.createTopics(List.of(new NewTopic(name, parts, (short)1).configs(cfg)))
				.all()
				.get(T, TimeUnit.SECONDS);
		} catch (ExecutionException e) {
			if (!(e.getCause() instanceof TopicExistsException))
				throw e;
		}
	}

	static void createTopic(String name, int parts) throws Exception {
		try (Admin a = admin()) {
			createTopic(a, name, parts, Map.of());
		}
	}

	/** Produce n numbered events (keys key-<seq>), acked; returns their metadata. */
	static List<RecordMetadata> produceSeq(String topic, int from, int n, String tag)
		throws Exception {
		List<Future<RecordMetadata>> fs = new ArrayList<>();
		List<RecordMetadata> out = new ArrayList<>();
		try (KafkaProducer<String, String> p = producer()) {
			for (int i = from; i < from + n; i++)
				fs.add(p.send(
					new ProducerRecord<>(topic, "key-" + i, event(i, tag))));
			p.flush();
			for (Future<RecordMetadata> f : fs)
				out.add(f.get(T, TimeUnit.SECONDS));
		}
		return out;
	}

	/** Every record of every partition of topic, up to the end offsets the
	 *  consumer sees at the start (the last stable offset for read_committed). */
	static List<ConsumerRecord<String, String>> drain(String topic, String isolation) {
		List<ConsumerRecord<String, String>> out = new ArrayList<>();
		try (KafkaConsumer<String, String> c =
			     consumer(null, "isolation.level", isolation)) {
			List<TopicPartition> tps = new ArrayList<>();
			c.partitionsFor(topic).forEach(
				pi -> tps.add(new TopicPartition(topic, pi.partition())));
			c.assign(tps);
			c.seekToBeginning(tps);
			Map<TopicPartition, Long> end = c.endOffsets(tps);
			long deadline = System.currentTimeMillis() + T * 1000;
			while (true) {
				boolean done = true;
				for (TopicPartition tp : tps)
					done &= c.position(tp) >= end.get(tp);
				if (done)
					break;
				expect(System.currentTimeMillis() < deadline,
				       "drain %s: %d records, end %s", topic, out.size(), end);
				c.poll(POLL).forEach(out::add);
			}
		}
		return out;
	}

	/** The seq= numbers of values: each of 0..n-1 exactly once. */
	static void expectSeqs(Collection<String> values, int n, String what) {
		boolean[] seen = new boolean[n];
		int dup = 0, out = 0;
		for (String v : values) {
			int s = seqOf(v);
			if (s >= n)
				out++;
			else if (seen[s])
				dup++;
			else
				seen[s] = true;
		}
		int missing = 0;
		for (boolean b : seen)
			missing += b ? 0 : 1;
		expect(missing == 0 && dup == 0 && out == 0,
		       "%s: %d values, %d missing, %d duplicated, %d out of range", what,
		       values.size(), missing, dup, out);
	}

	static String header(ConsumerRecord<String, String> r, String key) {
		Header h = r.headers().lastHeader(key);
		return h == null ? null : new String(h.value(), UTF_8);
	}

	// ------------------------------------------------------------ produce

	static void produce(String codec) throws Exception {
		String topic = "jv-codec-" + codec;
		int n = 300;
		createTopic(topic, 2);
		Map<Integer, Set<Long>> offsets = new TreeMap<>();
		try (KafkaProducer<String, String> p = producer("compression.type", codec)) {
			List<Future<RecordMetadata>> fs = new ArrayList<>();
			for (int i = 0; i < n; i++) {
				ProducerRecord<String, String> r =
					new ProducerRecord<>(topic, "key-" + i, event(i, codec));
				r.headers().add("seq", Integer.toString(i).getBytes(UTF_8));
				r.headers().add("codec", codec.getBytes(UTF_8));
				fs.add(p.send(r));
			}
			p.flush();
			for (Future<RecordMetadata> f : fs) {
				RecordMetadata m = f.get(T, TimeUnit.SECONDS);
				expect(offsets.computeIfAbsent(m.partition(), k -> new HashSet<>())
					       .add(m.offset()),
				       "offset %d of partition %d acked twice", m.offset(),
				       m.partition());
			}
		}
		for (Map.Entry<Integer, Set<Long>> e : offsets.entrySet())
			for (long o = 0; o < e.getValue().size(); o++)
				expect(e.getValue().contains(o),
				       "partition %d: acked offsets not 0..%d", e.getKey(),
				       e.getValue().size() - 1);
		List<ConsumerRecord<String, String>> got = drain(topic, "read_uncommitted");
		List<String> vals = new ArrayList<>();
		for (ConsumerRecord<String, String> r : got) {
			int s = seqOf(r.value());
			expect(r.value().equals(event(s, codec)), "value changed: %s", r.value());
			expect(("key-" + s).equals(r.key()), "seq %d has key %s", s, r.key());
			expect(Integer.toString(s).equals(header(r, "seq")) &&
				       codec.equals(header(r, "codec")),
			       "seq %d: headers %s", s, r.headers());
			vals.add(r.value());
		}
		expectSeqs(vals, n, "read back");
	}

	static void groupProduce() {
		for (String codec : List.of("none", "gzip", "snappy", "lz4", "zstd"))
			check("produce idempotent acks=all " + codec + " with headers",
			      () -> produce(codec));
	}

	// ------------------------------------------------------------ consume

	static final String GTOPIC = "jv-group";

	static void consumeFirst() throws Exception {
		createTopic(GTOPIC, 2);
		produceSeq(GTOPIC, 0, 100, "group");
		List<ConsumerRecord<String, String>> seen = new ArrayList<>();
		Map<TopicPartition, OffsetAndMetadata> next = new HashMap<>();
		try (KafkaConsumer<String, String> c = consumer(GROUP, "max.poll.records", "7")) {
			c.subscribe(List.of(GTOPIC));
			long deadline = System.currentTimeMillis() + T * 1000;
			while (seen.size() < 40) {
				expect(System.currentTimeMillis() < deadline,
				       "consumer A got %d of 40", seen.size());
				for (ConsumerRecord<String, String> r : c.poll(POLL)) {
					if (seen.size() >= 40)
						break;
					seen.add(r);
					next.put(new TopicPartition(r.topic(), r.partition()),
						 new OffsetAndMetadata(r.offset() + 1, "by A"));
				}
			}
			c.commitSync(next);
			Map<TopicPartition, OffsetAndMetadata> back = c.committed(next.keySet());
			for (TopicPartition tp : next.keySet())
				expect(back.get(tp) != null &&
					       back.get(tp).offset() == next.get(tp).offset(),
				       "%s committed %s, read back %s", tp, next.get(tp),
				       back.get(tp));
		}
		committedByA = next;
		seenByA = seen;
	}

	static void consumeResume() {
		expect(committedByA != null, "needs the commit of the previous check");
		List<String> vals = new ArrayList<>();
		seenByA.forEach(r -> vals.add(r.value()));
		Map<TopicPartition, Long> first = new HashMap<>();
		try (KafkaConsumer<String, String> c = consumer(GROUP)) {
			c.subscribe(List.of(GTOPIC));
			long deadline = System.currentTimeMillis() + T * 1000;
			while (vals.size() < 100) {
				expect(System.currentTimeMillis() < deadline,
				       "A and B got %d of 100", vals.size());
				for (ConsumerRecord<String, String> r : c.poll(POLL)) {
					first.putIfAbsent(
						new TopicPartition(r.topic(), r.partition()),
						r.offset());
					vals.add(r.value());
				}
			}
			for (Map.Entry<TopicPartition, Long> e : first.entrySet()) {
				OffsetAndMetadata a = committedByA.get(e.getKey());
				long want = a == null ? 0 : a.offset();
				expect(e.getValue() == want, "B started %s at %d, A committed %d",
				       e.getKey(), e.getValue(), want);
			}
			c.commitSync();
		}
		expectSeqs(vals, 100, "A then B");
	}

	static void groupConsume() {
		check("consume group subscribe + commitSync", SluiceClientTest::consumeFirst);
		check("consume group second consumer resumes from the commit",
		      SluiceClientTest::consumeResume);
	}

	// ------------------------------------------------------------ admin

	static final String ATOPIC = "jv-admin";
	static Uuid createdId;

	static Config topicConfig(Admin a, String topic) throws Exception {
		ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
		return a.describeConfigs(List.of(r)).all().get(T, TimeUnit.SECONDS).get(r);
	}

	static String cfg(Config c, String name) {
		ConfigEntry e = c.get(name);
		return e == null ? null : e.value();
	}

	static TopicDescription describe(Admin a, String topic) throws Exception {
		return a.describeTopics(List.of(topic))
			.allTopicNames()
			.get(T, TimeUnit.SECONDS)
			.get(topic);
	}

	static Map<TopicPartition, ListOffsetsResultInfo> offsets(Admin a, String topic, int parts,
								  OffsetSpec spec)
		throws Exception {
		Map<TopicPartition, OffsetSpec> q = new HashMap<>();
		for (int i = 0; i < parts; i++)
			q.put(new TopicPartition(topic, i), spec);
		return a.listOffsets(q).all().get(T, TimeUnit.SECONDS);
	}

	static long groupOffsetSum(Map<TopicPartition, OffsetAndMetadata> m) {
		long s = 0;
		for (OffsetAndMetadata o : m.values())
			s += o == null ? 0 : o.offset();
		return s;
	}

	@SuppressWarnings({"removal", "deprecation"}) // still Admin's consumer-group listing in 4.1
	static Set<String> groupIds(Admin a) throws Exception {
		Set<String> ids = new HashSet<>();
		for (ConsumerGroupListing l : a.listConsumerGroups().all().get(T, TimeUnit.SECONDS))
			ids.add(l.groupId());
		return ids;
	}

	static void awaitTrue(String what, Body probe) throws Exception {
		long deadline = System.currentTimeMillis() + T * 1000;
		while (true) {
			try {
				probe.run();
				return;
			} catch (AssertionError e) {
				if (System.currentTimeMillis() > deadline)
					throw new AssertionError(what + ": " + e.getMessage());
			}
			Thread.sleep(100);
		}
	}

	static void adminTopics(Admin a) {
		check("admin createTopics with configs", () -> {
			CreateTopicsResult r = a.createTopics(List.of(
				new NewTopic(ATOPIC, 3, (short)1)
					.configs(Map.of("retention.ms", "3600000", "segment.bytes",
							"1048576", "message.timestamp.type",
							"CreateTime"))));
			r.all().get(T, TimeUnit.SECONDS);
			if (advertised(CREATE_TOPICS, 7)) // the topic id is in the answer from v7
				createdId = r.topicId(ATOPIC).get(T, TimeUnit.SECONDS);
		});
		check("admin listTopics", () -> {
			Set<String> names = a.listTopics().names().get(T, TimeUnit.SECONDS);
			expect(names.contains(ATOPIC), "%s not in %s", ATOPIC, names);
		});
		check("admin describeTopics", () -> {
			TopicDescription d = describe(a, ATOPIC);
			// a single broker (sluice-store is node 0) leads every partition
			Collection<Node> nodes =
				a.describeCluster().nodes().get(T, TimeUnit.SECONDS);
			int id = nodes.iterator().next().id();
			expect(d.partitions().size() == 3, "%d partitions", d.partitions().size());
			for (TopicPartitionInfo p : d.partitions())
				expect(p.leader() != null && p.leader().id() == id &&
					       p.replicas().equals(List.of(p.leader())) &&
					       p.isr().equals(List.of(p.leader())),
				       "partition %s, node %d", p, id);
		});
		check("admin describeTopics topic id", new int[] {METADATA, 10}, () -> {
			Uuid id = describe(a, ATOPIC).topicId();
			expect(id != null && !Uuid.ZERO_UUID.equals(id), "topic id %s", id);
			if (createdId != null)
				expect(id.equals(createdId),
				       "describe says %s, createTopics said %s", id, createdId);
		});
		check("admin describeCluster", () -> {
			DescribeClusterResult r = a.describeCluster();
			Collection<Node> nodes = r.nodes().get(T, TimeUnit.SECONDS);
			Node ctl = r.controller().get(T, TimeUnit.SECONDS);
			String id = r.clusterId().get(T, TimeUnit.SECONDS);
			expect(nodes.size() == 1, "nodes %s", nodes);
			Node n = nodes.iterator().next();
			expect(bootstrap.endsWith(":" + n.port()), "node %s, bootstrap %s", n,
			       bootstrap);
			expect(ctl != null && ctl.id() == n.id(), "controller %s, node %s", ctl, n);
			expect(id != null && !id.isEmpty(), "cluster id %s", id);
		});
	}

	static void adminOffsets(Admin a) {
		long base = System.currentTimeMillis() - 60000;
		check("admin listOffsets earliest/latest", () -> {
			try (KafkaProducer<String, String> p = producer()) {
				List<Future<RecordMetadata>> fs = new ArrayList<>();
				for (int i = 0; i < 30; i++)
					fs.add(p.send(new ProducerRecord<>(
						ATOPIC, 0, base + (i == 17 ? 1000 : i), "k",
						event(i, "offsets"))));
				for (Future<RecordMetadata> f : fs)
					f.get(T, TimeUnit.SECONDS);
			}
			long lo = offsets(a, ATOPIC, 3, OffsetSpec.earliest())
					  .get(new TopicPartition(ATOPIC, 0))
					  .offset();
			long hi = offsets(a, ATOPIC, 3, OffsetSpec.latest())
					  .get(new TopicPartition(ATOPIC, 0))
					  .offset();
			expect(lo == 0 && hi == 30, "earliest %d latest %d, want 0 and 30", lo, hi);
		});
		check("admin listOffsets max-timestamp", new int[] {LIST_OFFSETS, 7}, () -> {
			ListOffsetsResultInfo i = offsets(a, ATOPIC, 1, OffsetSpec.maxTimestamp())
							  .get(new TopicPartition(ATOPIC, 0));
			expect(i.offset() == 17 && i.timestamp() == base + 1000,
			       "offset %d ts %d, want 17 at %d", i.offset(), i.timestamp(),
			       base + 1000);
		});
		check("admin createPartitions", new int[] {CREATE_PARTITIONS, 0}, () -> {
			a.createPartitions(Map.of(ATOPIC, NewPartitions.increaseTo(5)))
				.all()
				.get(T, TimeUnit.SECONDS);
			awaitTrue("5 partitions", () -> {
				int n = describe(a, ATOPIC).partitions().size();
				expect(n == 5, "%d partitions", n);
			});
		});
		check("admin deleteRecords", new int[] {DELETE_RECORDS, 0}, () -> {
			TopicPartition tp = new TopicPartition(ATOPIC, 0);
			long low = a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(10)))
					   .lowWatermarks()
					   .get(tp)
					   .get(T, TimeUnit.SECONDS)
					   .lowWatermark();
			long lo = offsets(a, ATOPIC, 1, OffsetSpec.earliest()).get(tp).offset();
			expect(low == 10 && lo == 10, "low watermark %d, earliest %d, want 10", low,
			       lo);
			try (KafkaConsumer<String, String> c = consumer(null)) {
				c.assign(List.of(tp));
				c.seekToBeginning(List.of(tp));
				List<ConsumerRecord<String, String>> rs = new ArrayList<>();
				long deadline = System.currentTimeMillis() + T * 1000;
				while (rs.isEmpty() && System.currentTimeMillis() < deadline)
					c.poll(POLL).forEach(rs::add);
				expect(!rs.isEmpty() && rs.get(0).offset() == 10,
				       "first record read %s",
				       rs.isEmpty() ? "none" : rs.get(0).offset());
			}
		});
	}

	static void adminConfigs(Admin a) {
		check("admin describeConfigs", () -> {
			Config c = topicConfig(a, ATOPIC);
			expect("3600000".equals(cfg(c, "retention.ms")) &&
				       "1048576".equals(cfg(c, "segment.bytes")),
			       "retention.ms=%s segment.bytes=%s", cfg(c, "retention.ms"),
			       cfg(c, "segment.bytes"));
			expect(!c.get("retention.ms").isDefault(),
			       "retention.ms reported as a default");
		});
		check("admin incrementalAlterConfigs set + delete",
		      new int[] {INCREMENTAL_ALTER_CONFIGS, 0}, () -> alterConfigs(a));
		String lat = "admin createTopics compression.type=lz4"
			     + " message.timestamp.type=LogAppendTime";
		check(lat, () -> logAppendTime(a));
	}

	static void alterConfigs(Admin a) throws Exception {
		ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, ATOPIC);
		AlterConfigOp set = new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"),
						      AlterConfigOp.OpType.SET);
		AlterConfigOp del = new AlterConfigOp(new ConfigEntry("segment.bytes", ""),
						      AlterConfigOp.OpType.DELETE);
		a.incrementalAlterConfigs(Map.of(r, List.of(set, del)))
			.all()
			.get(T, TimeUnit.SECONDS);
		Config c = topicConfig(a, ATOPIC);
		expect("7200000".equals(cfg(c, "retention.ms")), "retention.ms=%s after SET",
		       cfg(c, "retention.ms"));
		ConfigEntry seg = c.get("segment.bytes");
		expect(seg == null || seg.isDefault(), "segment.bytes=%s (%s) after DELETE",
		       seg == null ? null : seg.value(), seg == null ? null : seg.source());
	}

	static void logAppendTime(Admin a) throws Exception {
		String t = "jv-lat";
		Map<String, String> cfgs = Map.of("compression.type", "lz4",
						  "message.timestamp.type", "LogAppendTime");
		a.createTopics(List.of(new NewTopic(t, 1, (short)1).configs(cfgs)))
			.all()
			.get(T, TimeUnit.SECONDS);
		Config c = topicConfig(a, t);
		String comp = cfg(c, "compression.type"), ts = cfg(c, "message.timestamp.type");
		expect("lz4".equals(comp) && "LogAppendTime".equals(ts),
		       "compression.type=%s message.timestamp.type=%s", comp, ts);
		long before = System.currentTimeMillis();
		try (KafkaProducer<String, String> p = producer()) {
			// a CreateTime from 2001, which the store must replace by its own clock
			p.send(new ProducerRecord<>(t, 0, 1000000000000L, "k", event(0, "lat")))
				.get(T, TimeUnit.SECONDS);
		}
		List<ConsumerRecord<String, String>> rs = drain(t, "read_uncommitted");
		long after = System.currentTimeMillis();
		a.deleteTopics(List.of(t)).all().get(T, TimeUnit.SECONDS);
		expect(rs.size() == 1, "read %d records, want 1", rs.size());
		ConsumerRecord<String, String> r = rs.get(0);
		expect(r.timestampType() == TimestampType.LOG_APPEND_TIME &&
			       r.timestamp() >= before - 5000 && r.timestamp() <= after + 5000,
		       "read %s %d, want LogAppendTime in [%d, %d]", r.timestampType(),
		       r.timestamp(), before, after);
	}

	static void adminGroups(Admin a) {
		check("admin listConsumerGroups", () -> {
			Set<String> ids = groupIds(a);
			expect(ids.contains(GROUP), "%s not in %s", GROUP, ids);
		});
		check("admin describeConsumerGroups", () -> {
			ConsumerGroupDescription d = a.describeConsumerGroups(List.of(GROUP))
							     .all()
							     .get(T, TimeUnit.SECONDS)
							     .get(GROUP);
			expect(d.groupState() == GroupState.EMPTY && d.members().isEmpty() &&
				       !d.isSimpleConsumerGroup(),
			       "state %s, %d members, simple %s", d.groupState(),
			       d.members().size(), d.isSimpleConsumerGroup());
		});
		check("admin listConsumerGroupOffsets", () -> {
			Map<TopicPartition, OffsetAndMetadata> m =
				a.listConsumerGroupOffsets(GROUP)
					.partitionsToOffsetAndMetadata()
					.get(T, TimeUnit.SECONDS);
			expect(m.size() == 2 && groupOffsetSum(m) == 100,
			       "offsets %s, want 2 partitions summing to 100", m);
		});
		check("admin alterConsumerGroupOffsets", () -> {
			TopicPartition tp = new TopicPartition(GTOPIC, 0);
			a.alterConsumerGroupOffsets(GROUP, Map.of(tp, new OffsetAndMetadata(5)))
				.all()
				.get(T, TimeUnit.SECONDS);
			OffsetAndMetadata o = a.listConsumerGroupOffsets(GROUP)
						      .partitionsToOffsetAndMetadata()
						      .get(T, TimeUnit.SECONDS)
						      .get(tp);
			expect(o != null && o.offset() == 5, "offset %s after altering to 5", o);
		});
		check("admin deleteConsumerGroups", new int[] {DELETE_GROUPS, 0}, () -> {
			a.deleteConsumerGroups(List.of(GROUP)).all().get(T, TimeUnit.SECONDS);
			Set<String> ids = groupIds(a);
			expect(!ids.contains(GROUP), "%s still listed: %s", GROUP, ids);
			Map<TopicPartition, OffsetAndMetadata> m =
				a.listConsumerGroupOffsets(GROUP)
					.partitionsToOffsetAndMetadata()
					.get(T, TimeUnit.SECONDS);
			expect(groupOffsetSum(m) == 0, "offsets after delete: %s", m);
		});
		check("admin deleteTopics", () -> {
			a.deleteTopics(List.of(ATOPIC)).all().get(T, TimeUnit.SECONDS);
			awaitTrue("topics gone", () -> {
				Set<String> names = a.listTopics().names().get(T, TimeUnit.SECONDS);
				expect(!names.contains(ATOPIC), "%s still listed", ATOPIC);
			});
		});
	}

	static void groupAdmin() throws Exception {
		try (Admin a = admin()) {
			adminTopics(a);
			adminOffsets(a);
			adminConfigs(a);
			adminGroups(a);
		}
	}

	// ------------------------------------------------------------ static membership

	static final String STOPIC = "jv-static", SGROUP = "jv-static";

	static KafkaConsumer<String, String> member(String instance) {
		KafkaConsumer<String, String> c = consumer(SGROUP, "group.instance.id", instance);
		c.subscribe(List.of(STOPIC));
		return c;
	}

	/** Poll every consumer in turn until done() holds. */
	static void pollUntil(String what, List<KafkaConsumer<String, String>> cs,
			      java.util.function.BooleanSupplier done) {
		long deadline = System.currentTimeMillis() + T * 1000;
		while (!done.getAsBoolean()) {
			expect(System.currentTimeMillis() < deadline, "timed out waiting for %s",
			       what);
			for (KafkaConsumer<String, String> c : cs)
				c.poll(POLL);
		}
	}

	static void closeQuietly(KafkaConsumer<String, String> c) {
		try {
			if (c != null)
				c.close(CloseOptions.timeout(Duration.ofSeconds(5)));
		} catch (Exception e) {
			// a fenced member may refuse its last commit; nothing to check here
		}
	}

	static void groupStatic() {
		KafkaConsumer<String, String>[] m = newArray(4);
		try {
			check("static membership restarted member rejoins without a rebalance",
			      new int[] {JOIN_GROUP, 5}, () -> {
				      createTopic(STOPIC, 2);
				      m[0] = member("i1");
				      m[1] = member("i2");
				      pollUntil("two members with one partition each",
						List.of(m[0], m[1]),
						()
							-> m[0].assignment().size() == 1 &&
								   m[1].assignment().size() == 1);
				      Set<TopicPartition> a1 = new HashSet<>(m[0].assignment());
				      Set<TopicPartition> a2 = new HashSet<>(m[1].assignment());
				      int gen = m[1].groupMetadata().generationId();
				      // a static member closes without leaving the group
				      m[0].close(CloseOptions.timeout(Duration.ofSeconds(5)));
				      m[0] = null;
				      m[2] = member("i1");
				      pollUntil("the restarted member's assignment",
						List.of(m[2], m[1]),
						() -> !m[2].assignment().isEmpty());
				      expect(m[2].assignment().equals(a1),
					     "restarted member got %s, had %s", m[2].assignment(),
					     a1);
				      expect(m[1].assignment().equals(a2) &&
						     m[1].groupMetadata().generationId() == gen,
					     "other member: %s generation %d, was %s generation %d",
					     m[1].assignment(), m[1].groupMetadata().generationId(),
					     a2, gen);
			      });
			check("static membership duplicate group.instance.id fences the old member",
			      new int[] {JOIN_GROUP, 5}, () -> {
				      expect(m[1] != null && m[2] != null,
					     "needs the previous check's members");
				      m[3] = member("i2");
				      // the fenced member learns it at its next heartbeat (0.5 s)
				      long deadline = System.currentTimeMillis() + 15000;
				      while (true) {
					      expect(System.currentTimeMillis() < deadline,
						     "the replaced member was never fenced");
					      m[3].poll(POLL);
					      m[2].poll(POLL);
					      try {
						      m[1].poll(POLL);
						      m[1].commitSync(Duration.ofSeconds(5));
					      } catch (FencedInstanceIdException e) {
						      break;
					      }
				      }
			      });
		} finally {
			for (KafkaConsumer<String, String> c : m)
				closeQuietly(c);
		}
	}

	@SuppressWarnings({"unchecked", "rawtypes"})
	static KafkaConsumer<String, String>[] newArray(int n) {
		return (KafkaConsumer<String, String>[]) new KafkaConsumer[n];
	}

	// ------------------------------------------------------------ transactions

	static final int[] TXN_APIS = {ADD_PARTITIONS_TO_TXN, 0, ADD_OFFSETS_TO_TXN, 0, END_TXN, 0,
				       TXN_OFFSET_COMMIT,     0};

	static KafkaProducer<String, String> txProducer(String id) {
		return producer("transactional.id", id, "transaction.timeout.ms", "20000");
	}

	static void txnCommitAbort() throws Exception {
		String t = "jv-txn";
		createTopic(t, 1);
		try (KafkaProducer<String, String> p = txProducer("jv-txn-1")) {
			p.initTransactions();
			p.beginTransaction();
			for (int i = 0; i < 10; i++)
				p.send(new ProducerRecord<>(t, "k", event(i, "committed")));
			p.commitTransaction();
			p.beginTransaction();
			for (int i = 0; i < 5; i++)
				p.send(new ProducerRecord<>(t, "k", "aborted seq=" + (1000 + i)));
			p.flush(); // the aborted records reach the log before the abort marker
			p.abortTransaction();
			p.beginTransaction();
			for (int i = 10; i < 20; i++)
				p.send(new ProducerRecord<>(t, "k", event(i, "committed")));
			p.commitTransaction();
		}
		List<String> rc = new ArrayList<>();
		drain(t, "read_committed").forEach(r -> rc.add(r.value()));
		expectSeqs(rc, 20, "read_committed");
		List<ConsumerRecord<String, String>> ru = drain(t, "read_uncommitted");
		long aborted = ru.stream().filter(r -> r.value().startsWith("aborted")).count();
		expect(ru.size() == 25 && aborted == 5,
		       "read_uncommitted: %d records, %d aborted; want 25, 5", ru.size(), aborted);
	}

	static void txnOffsets() throws Exception {
		String in = "jv-txn-in", out = "jv-txn-out", g = "jv-txn-g";
		createTopic(in, 1);
		createTopic(out, 1);
		produceSeq(in, 0, 10, "txn-in");
		TopicPartition tp = new TopicPartition(in, 0);
		try (KafkaProducer<String, String> p = txProducer("jv-txn-2");
		     KafkaConsumer<String, String> c =
			     consumer(g, "isolation.level", "read_committed")) {
			p.initTransactions();
			c.subscribe(List.of(in));
			List<ConsumerRecord<String, String>> got = new ArrayList<>();
			long deadline = System.currentTimeMillis() + T * 1000;
			while (got.size() < 10) {
				expect(System.currentTimeMillis() < deadline, "consumed %d of 10",
				       got.size());
				c.poll(POLL).forEach(got::add);
			}
			p.beginTransaction();
			for (ConsumerRecord<String, String> r : got)
				p.send(new ProducerRecord<>(
					out, r.key(), r.value().replace("txn-in", "txn-out")));
			p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(10)),
						   c.groupMetadata());
			p.commitTransaction();
			p.beginTransaction();
			p.sendOffsetsToTransaction(Map.of(tp, new OffsetAndMetadata(3)),
						   c.groupMetadata());
			p.abortTransaction();
		}
		try (Admin a = admin()) {
			OffsetAndMetadata o = a.listConsumerGroupOffsets(g)
						      .partitionsToOffsetAndMetadata()
						      .get(T, TimeUnit.SECONDS)
						      .get(tp);
			expect(o != null && o.offset() == 10,
			       "group offset %s, want 10 (the aborted 3 must not apply)", o);
		}
		List<String> vals = new ArrayList<>();
		drain(out, "read_committed").forEach(r -> vals.add(r.value()));
		expectSeqs(vals, 10, "output topic");
	}

	static void groupTxn() {
		check("transactions commit + abort, read_committed consumer", TXN_APIS,
		      SluiceClientTest::txnCommitAbort);
		check("transactions sendOffsetsToTransaction (consume-transform-produce)", TXN_APIS,
		      SluiceClientTest::txnOffsets);
	}

	// ------------------------------------------------------------ driver

	static int checks(List<String> groups) throws Exception {
		int before = failures;
		for (String g : groups) {
			switch (g) {
			case "produce":
				groupProduce();
				break;
			case "consume":
				groupConsume();
				break;
			case "admin":
				groupAdmin();
				break;
			case "static":
				groupStatic();
				break;
			case "txn":
				groupTxn();
				break;
			default:
				throw new IllegalArgumentException("unknown check group " + g);
			}
		}
		return failures > before ? 1 : 0;
	}

	/** Exit.exit/halt during a tool: the first code is the process's exit
	 *  code; what the tool prints after it (its catch blocks seeing the
	 *  ToolExit) is cut off, as a real exit would never have printed it. */
	static void exited(int code) {
		if (exitCode == null) {
			exitCode = code;
			outStream.flush();
			try {
				exitMark = outFile.getChannel().position();
			} catch (java.io.IOException e) {
				exitMark = -1;
			}
		}
		throw new ToolExit(code);
	}

	static int tool(String main, String[] args) throws java.io.IOException {
		exitCode = null;
		exitMark = -1;
		hooks.clear();
		try {
			Class.forName(main)
				.getMethod("main", String[].class)
				.invoke(null, (Object)args);
		} catch (InvocationTargetException e) {
			if (!(e.getCause() instanceof ToolExit)) {
				e.getCause().printStackTrace();
				if (exitCode == null)
					exitCode = 1;
			}
		} catch (ReflectiveOperationException e) {
			e.printStackTrace();
			exitCode = 127;
		}
		if (exitMark >= 0) {
			outStream.flush();
			outFile.getChannel().truncate(exitMark);
			outFile.getChannel().position(exitMark);
		}
		// then the shutdown hooks, as the JVM runs them at exit
		for (Runnable h : new ArrayList<>(hooks)) {
			Thread th = new Thread(h, "tool-shutdown-hook");
			th.start();
			try {
				th.join(15000);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
			}
		}
		return exitCode == null ? 0 : exitCode;
	}

	static int dispatch(String[] f) throws Exception {
		String cmd = f[2];
		String[] rest = Arrays.copyOfRange(f, 3, f.length);
		if (cmd.equals("checks"))
			return checks(Arrays.asList(rest));
		if (cmd.equals("tool"))
			return tool(rest[0], Arrays.copyOfRange(rest, 1, rest.length));
		throw new IllegalArgumentException("unknown command " + cmd);
	}

	static void serve() throws Exception {
		BufferedReader in = new BufferedReader(new InputStreamReader(System.in, UTF_8));
		PrintStream proto = System.out, err = System.err;
		System.setOut(err);
		Exit.setExitProcedure((code, msg) -> exited(code));
		Exit.setHaltProcedure((code, msg) -> exited(code));
		Exit.setShutdownHookAdder((name, r) -> hooks.add(r));
		String line;
		while ((line = in.readLine()) != null) {
			String[] f = line.split("\t", -1);
			int rc;
			try (FileOutputStream file = new FileOutputStream(f[0]);
			     PrintStream out = new PrintStream(file, true, UTF_8);
			     InputStream stdin = f[1].equals("-")
							 ? new ByteArrayInputStream(new byte[0])
							 : new FileInputStream(f[1])) {
				outFile = file;
				outStream = out;
				System.setOut(out);
				System.setErr(out);
				System.setIn(stdin);
				try {
					rc = dispatch(f);
				} catch (Throwable t) {
					t.printStackTrace();
					rc = 2;
				}
				out.flush();
			} finally {
				System.setOut(err);
				System.setErr(err);
			}
			proto.println("END " + rc);
			proto.flush();
		}
	}

	static Map<Integer, int[]> parseApis(String s) {
		Map<Integer, int[]> m = new HashMap<>();
		for (String e : s.split(",")) {
			String[] kv = e.split("[:-]");
			m.put(Integer.parseInt(kv[0]),
			      new int[] {Integer.parseInt(kv[1]), Integer.parseInt(kv[2])});
		}
		return m;
	}

	public static void main(String[] args) throws Exception {
		int i = 0;
		if (args.length > 1 && args[0].equals("--apis")) {
			apis = parseApis(args[1]);
			i = 2;
		}
		if (args.length < i + 2) {
			System.err.println(
				"usage: SluiceClientTest [--apis K:MIN-MAX,...] BOOTSTRAP "
				+ "(produce|consume|admin|static|txn)... | serve");
			System.exit(2);
		}
		bootstrap = args[i];
		int rc;
		if (args[i + 1].equals("serve")) {
			serve();
			rc = 0;
		} else {
			rc = checks(Arrays.asList(args).subList(i + 1, args.length));
		}
		System.out.flush();
		// tools and clients may leave non-daemon threads and JVM hooks behind
		Runtime.getRuntime().halt(rc);
	}
}
