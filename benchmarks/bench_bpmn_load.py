"""How fast ``read_bpmn`` loads a large BPMN file.

Generates a process of about 5,000 elements (a long chain of tasks with exclusive gateways,
conditions on the branches, and a diagram: a shape per node, an edge per flow), loads it several
times and prints the median time and the elements read per second.

    python benchmarks/bench_bpmn_load.py [--elements 5000] [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import time

from apg_workflow.formats.bpmn import read_bpmn

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'id="bench" targetNamespace="urn:bench">\n'
)


def generate(elements: int) -> tuple[str, int]:
    """A BPMN document with about ``elements`` flow elements; returns it and the exact count.

    Each step is a task, two gateways, a side task and five flows (one conditional, one default).
    """
    steps = max(1, (elements - 3) // 9)
    nodes: list[str] = ['<bpmn:startEvent id="start"/>']
    flows: list[str] = []
    shapes: list[str] = []
    edges: list[str] = []
    previous = "start"

    def flow(flow_id: str, source: str, target: str, condition: str = "") -> None:
        body = f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        flows.append(
            f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
            f"{body + '</bpmn:conditionExpression>' if condition else ''}</bpmn:sequenceFlow>"
        )
        edges.append(
            f'<bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}"><di:waypoint x="0" y="0"/>'
            f'<di:waypoint x="10" y="0"/></bpmndi:BPMNEdge>'
        )

    def shape(node_id: str, x: int, y: int) -> None:
        shapes.append(
            f'<bpmndi:BPMNShape id="{node_id}_di" bpmnElement="{node_id}">'
            f'<dc:Bounds x="{x}" y="{y}" width="100" height="80"/></bpmndi:BPMNShape>'
        )

    shape("start", 0, 100)
    for step in range(steps):
        task, gateway, side, join = f"task_{step}", f"gateway_{step}", f"side_{step}", f"join_{step}"
        nodes.append(f'<bpmn:task id="{task}" name="Task {step}"/>')
        nodes.append(f'<bpmn:exclusiveGateway id="{gateway}" default="{gateway}_default"/>')
        nodes.append(f'<bpmn:task id="{side}" name="Side {step}"/>')
        for node_id, offset in ((task, 0), (gateway, 150), (side, 300)):
            shape(node_id, step * 450 + offset, 100)
        flow(f"to_{task}", previous, task)
        flow(f"to_{gateway}", task, gateway)
        flow(f"{gateway}_yes", gateway, side, f"amount &gt; {step}")
        flow(f"{gateway}_default", gateway, join)
        flow(f"from_{side}", side, join)
        nodes.append(f'<bpmn:exclusiveGateway id="{join}"/>')
        shape(join, step * 450 + 400, 100)
        previous = join
    nodes.append('<bpmn:endEvent id="end"/>')
    shape("end", steps * 450, 100)
    flow("to_end", previous, "end")
    document = (
        HEAD
        + '<bpmn:process id="bench_process" isExecutable="true">\n'
        + "\n".join(nodes + flows)
        + "\n</bpmn:process>\n"
        + '<bpmndi:BPMNDiagram id="diagram"><bpmndi:BPMNPlane id="plane" bpmnElement="bench_process">\n'
        + "\n".join(shapes + edges)
        + "\n</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>\n</bpmn:definitions>\n"
    )
    return document, len(nodes) + len(flows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=5000, help="flow elements to generate (default 5000)")
    parser.add_argument("--runs", type=int, default=7, help="loads to time (default 7)")
    arguments = parser.parse_args()
    document, count = generate(arguments.elements)
    data = document.encode("utf-8")
    times = []
    for _ in range(arguments.runs):
        started = time.perf_counter()
        definitions = read_bpmn(data)
        times.append(time.perf_counter() - started)
    process = definitions.processes[0]
    assert len(process.nodes) + len(process.flows) == count
    median = statistics.median(times)
    print(f"BPMN load: {count} flow elements + diagram, {len(data) / 1e6:.1f} MB")
    spread = f"{min(times) * 1000:.1f} to {max(times) * 1000:.1f} ms"
    print(f"median {median * 1000:.1f} ms over {arguments.runs} runs ({spread})")
    print(f"{count / median:,.0f} elements per second")


if __name__ == "__main__":
    main()
