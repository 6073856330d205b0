"""Small BPMN workflows the durable tests run."""

from __future__ import annotations

import itertools

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:apg="urn:apg-workflow:bpmn:1.0" id="d" targetNamespace="urn:test">\n'
)


def bpmn(body: str) -> str:
    return f"{_HEAD}{body}\n</definitions>\n"


def service_chain(process_id: str, count: int, component: str | None = "noop", retry: str = "") -> str:
    """start → ``count`` service tasks t1…tN → end."""
    ext = f'<apg:component type="{component}"/>' if component else ""
    tasks = "".join(
        f'<serviceTask id="t{i}"><extensionElements>{ext}{retry}</extensionElements></serviceTask>'
        for i in range(1, count + 1)
    )
    nodes = ["start", *(f"t{i}" for i in range(1, count + 1)), "end"]
    flows = "".join(
        f'<sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(nodes))
    )
    body = f'<startEvent id="start"/>{tasks}<endEvent id="end"/>{flows}'
    return bpmn(f'<process id="{process_id}" isExecutable="true">{body}</process>')


TWO_TASKS = bpmn("""
<process id="review" name="Review" isExecutable="true">
  <startEvent id="start"/>
  <parallelGateway id="split"/>
  <userTask id="legal" name="Legal review"/>
  <userTask id="finance" name="Finance review"/>
  <parallelGateway id="join"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="split"/>
  <sequenceFlow id="f2" sourceRef="split" targetRef="legal"/>
  <sequenceFlow id="f3" sourceRef="split" targetRef="finance"/>
  <sequenceFlow id="f4" sourceRef="legal" targetRef="join"/>
  <sequenceFlow id="f5" sourceRef="finance" targetRef="join"/>
  <sequenceFlow id="f6" sourceRef="join" targetRef="end"/>
</process>""")

TIMER = bpmn("""
<process id="wait" isExecutable="true">
  <startEvent id="start"/>
  <intermediateCatchEvent id="hour">
    <timerEventDefinition><timeDuration>PT1H</timeDuration></timerEventDefinition>
  </intermediateCatchEvent>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="hour"/>
  <sequenceFlow id="f2" sourceRef="hour" targetRef="end"/>
</process>""")

PAYMENT = bpmn("""
<message id="Paid" name="Paid"/>
<process id="order" isExecutable="true">
  <startEvent id="start"/>
  <intermediateCatchEvent id="paid"><messageEventDefinition messageRef="Paid"><extensionElements>
    <apg:correlationKey>order_id</apg:correlationKey></extensionElements></messageEventDefinition>
  </intermediateCatchEvent>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="paid"/>
  <sequenceFlow id="f2" sourceRef="paid" targetRef="end"/>
</process>""")

MESSAGE_START = bpmn("""
<message id="Lead" name="NewLead"/>
<process id="lead" isExecutable="true">
  <startEvent id="received"><messageEventDefinition messageRef="Lead"/></startEvent>
  <userTask id="call" name="Call the lead"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="received" targetRef="call"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
</process>""")

SIGNAL = bpmn("""
<signal id="Go" name="Go"/>
<process id="race" isExecutable="true">
  <startEvent id="start"/>
  <intermediateCatchEvent id="go"><signalEventDefinition signalRef="Go"/></intermediateCatchEvent>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="go"/>
  <sequenceFlow id="f2" sourceRef="go" targetRef="end"/>
</process>""")

CALLER = bpmn("""
<process id="parent" isExecutable="true">
  <startEvent id="start"/>
  <callActivity id="call" calledElement="child">
    <extensionElements><apg:propagateAll/></extensionElements>
  </callActivity>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
  <sequenceFlow id="f2" sourceRef="call" targetRef="end"/>
</process>
<process id="child" isExecutable="false">
  <startEvent id="c_start"/>
  <scriptTask id="double"><script>y = x * 2</script></scriptTask>
  <userTask id="approve" name="Approve"/>
  <endEvent id="c_end"/>
  <sequenceFlow id="c1" sourceRef="c_start" targetRef="double"/>
  <sequenceFlow id="c2" sourceRef="double" targetRef="approve"/>
  <sequenceFlow id="c3" sourceRef="approve" targetRef="c_end"/>
</process>""")

# A process that throws a signal its own non-interrupting event sub-process catches: the signal
# reaches the thrower's catcher exactly once (inside the step), and other executions too. The throw
# maps only `sent_at` into the signal's payload, so each catcher counts into its own process scope.
OWN_SIGNAL = bpmn("""
<signal id="Ping" name="Ping"/>
<process id="pinger" isExecutable="true">
  <startEvent id="start"/>
  <intermediateThrowEvent id="ping">
    <extensionElements><apg:input target="sent_at" source="'now'"/></extensionElements>
    <signalEventDefinition signalRef="Ping"/>
  </intermediateThrowEvent>
  <userTask id="wait_here"/>
  <endEvent id="end"/>
  <sequenceFlow id="f1" sourceRef="start" targetRef="ping"/>
  <sequenceFlow id="f2" sourceRef="ping" targetRef="wait_here"/>
  <sequenceFlow id="f3" sourceRef="wait_here" targetRef="end"/>
  <subProcess id="on_ping" triggeredByEvent="true">
    <startEvent id="ping_start" isInterrupting="false"><signalEventDefinition signalRef="Ping"/></startEvent>
    <scriptTask id="count"><script>pings = pings + 1</script></scriptTask>
    <endEvent id="ping_end"/>
    <sequenceFlow id="g1" sourceRef="ping_start" targetRef="count"/>
    <sequenceFlow id="g2" sourceRef="count" targetRef="ping_end"/>
  </subProcess>
</process>""")
