// SPDX-License-Identifier: Apache-2.0
//
// kafkajs 2.2.4 against sluice-store (run by tests/integration/test_kafkajs.sh).
//
// usage: node kafkajs_test.js BROKER EVENTS_FILE OUT_DIR
//
// 1. admin: createTopics, listTopics, describeConfigs.
// 2. producer without compression and with gzip, consumer (a group of one)
//    reading both topics from the beginning -> OUT_DIR/simple.txt.
// 3. a consumer group of two members on a 4-partition topic: both join and
//    split the partitions 2/2 and consume; one leaves cleanly and the other
//    takes all 4; it rejoins and they split 2/2 again; records produced in
//    each phase are consumed -> OUT_DIR/group.txt.  The shell checks both
//    files with check_seq (exactly once).
'use strict'

const fs = require('fs')
const path = require('path')
const { Kafka, CompressionTypes, logLevel } = require('kafkajs')

const [broker, eventsFile, outDir] = process.argv.slice(2)
const events = fs.readFileSync(eventsFile, 'utf8').split('\n').filter((l) => l.length)
const kafka = new Kafka({ clientId: 'kjs', brokers: [broker], logLevel: logLevel.WARN,
  retry: { retries: 8, initialRetryTime: 100 } })

const log = (msg) => console.log('RESULT ' + msg)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor (pred, ms, what) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (pred()) return
    await sleep(50)
  }
  throw new Error('timed out waiting for ' + what)
}

async function produce (topic, list, compression) {
  const p = kafka.producer({ allowAutoTopicCreation: false })
  await p.connect()
  for (let i = 0; i < list.length; i += 200) {
    const messages = list.slice(i, i + 200).map((v, k) => ({ key: 'src-' + ((i + k) % 7), value: v }))
    await p.send({ topic, messages, compression, acks: -1 })
  }
  await p.disconnect()
}

function member (name, groupId, topic, sink, state) {
  const c = kafka.consumer({ groupId, sessionTimeout: 6000, rebalanceTimeout: 10000,
    heartbeatInterval: 300, maxWaitTimeInMs: 200 })
  state[name] = { assigned: [], count: 0 }
  c.on(c.events.GROUP_JOIN, (e) => {
    state[name].assigned = (e.payload.memberAssignment[topic] || []).slice().sort()
  })
  return {
    c,
    async start () {
      await c.connect()
      await c.subscribe({ topic, fromBeginning: true })
      await c.run({
        autoCommitThreshold: 20,
        eachMessage: async ({ message }) => {
          sink.push(message.value.toString())
          state[name].count++
        }
      })
    }
  }
}

async function main () {
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [
    { topic: 'js-plain', numPartitions: 2 }, { topic: 'js-gzip', numPartitions: 2 },
    { topic: 'js-group', numPartitions: 4 }] })
  const topics = await admin.listTopics()
  for (const t of ['js-plain', 'js-gzip', 'js-group']) {
    if (!topics.includes(t)) throw new Error('listTopics misses ' + t)
  }
  const cfg = await admin.describeConfigs({ resources: [{ type: 2, name: 'js-group' }],
    includeSynonyms: false })
  if (!cfg.resources[0].configEntries.find((e) => e.configName === 'retention.ms')) {
    throw new Error('describeConfigs: no retention.ms')
  }
  log('admin: createTopics, listTopics, describeConfigs')

  // producer (none, gzip) and a consumer
  const half = Math.floor(events.length / 2)
  await produce('js-plain', events.slice(0, half), CompressionTypes.None)
  await produce('js-gzip', events.slice(half), CompressionTypes.GZIP)
  const simple = []
  const st = {}
  const m0 = member('solo', 'js-solo', 'js-plain', simple, st)
  await m0.c.connect()
  await m0.c.subscribe({ topic: 'js-plain', fromBeginning: true })
  await m0.c.subscribe({ topic: 'js-gzip', fromBeginning: true })
  await m0.c.run({ eachMessage: async ({ message }) => { simple.push(message.value.toString()) } })
  await waitFor(() => simple.length >= events.length, 30000, 'simple consumption')
  await sleep(300)
  await m0.c.disconnect()
  fs.writeFileSync(path.join(outDir, 'simple.txt'), simple.join('\n') + '\n')
  log('producer none+gzip, consumer: ' + simple.length + ' records')

  // the group of two
  const sink = []
  const gs = {}
  const a = member('a', 'js-group', 'js-group', sink, gs)
  const b = member('b', 'js-group', 'js-group', sink, gs)
  await Promise.all([a.start(), b.start()])
  await waitFor(() => gs.a.assigned.length === 2 && gs.b.assigned.length === 2, 30000, 'a 2/2 split')
  const third = Math.floor(events.length / 3)
  const chunks = [events.slice(0, third), events.slice(third, 2 * third), events.slice(2 * third)]
  await produce('js-group', chunks[0], CompressionTypes.None)
  await waitFor(() => sink.length >= chunks[0].length, 30000, 'phase 1 consumption')
  if (gs.a.count === 0 || gs.b.count === 0) throw new Error('one member consumed nothing')
  log('group: 2 members joined, partitions ' + JSON.stringify([gs.a.assigned, gs.b.assigned]) +
      ', consumed ' + chunks[0].length)

  const t0 = Date.now()
  await a.c.disconnect()
  await waitFor(() => gs.b.assigned.length === 4, 30000, 'b to own all 4 partitions')
  log('group: a left cleanly, b owns all 4 partitions after ' + (Date.now() - t0) + ' ms')
  const aBefore = gs.a.count
  await produce('js-group', chunks[1], CompressionTypes.GZIP)
  await waitFor(() => sink.length >= chunks[0].length + chunks[1].length, 30000, 'phase 2')
  if (gs.a.count !== aBefore) throw new Error('a consumed after leaving')

  const a2 = member('a', 'js-group', 'js-group', sink, gs)
  await a2.start()
  await waitFor(() => gs.a.assigned.length === 2 && gs.b.assigned.length === 2, 30000, 'rejoin split')
  log('group: a rejoined, partitions ' + JSON.stringify([gs.a.assigned, gs.b.assigned]))
  await produce('js-group', chunks[2], CompressionTypes.None)
  await waitFor(() => sink.length >= events.length, 30000, 'phase 3')
  await sleep(500)
  await Promise.all([a2.c.disconnect(), b.c.disconnect()])
  fs.writeFileSync(path.join(outDir, 'group.txt'), sink.join('\n') + '\n')
  log('group: ' + sink.length + ' records over join, leave and rejoin')
  await admin.disconnect()
}

main().then(() => process.exit(0)).catch((e) => { console.error(e); process.exit(1) })
