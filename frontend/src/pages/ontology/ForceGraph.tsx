import { drag } from "d3-drag";
import {
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  type Simulation,
} from "d3-force";
import { select } from "d3-selection";
import { zoom, zoomIdentity } from "d3-zoom";
import { useEffect, useRef } from "react";

import { layerX, type ShapedGraph, type SimLink, type SimNode } from "./graphData";

type Link = Omit<SimLink, "source" | "target"> & { source: SimNode | string; target: SimNode | string };

/**
 * The graph as an SVG driven by d3-force: drag a node to pin it (double-click frees it),
 * wheel or pinch to zoom, drag the background to pan. Nodes are focusable buttons; Enter
 * or a click selects one.
 */
export default function ForceGraph({
  graph,
  onSelect,
  selected,
}: {
  graph: ShapedGraph;
  onSelect: (node: SimNode) => void;
  selected: string | null;
}) {
  const svgRef = useRef<SVGSVGElement | null>(null);
  const simRef = useRef<Simulation<SimNode, Link> | null>(null);
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const width = svg.clientWidth || 900;
    const height = svg.clientHeight || 560;
    const nodes: SimNode[] = graph.nodes.map((n) => ({ ...n }));
    const links: Link[] = graph.links.map((l) => ({ ...l }));
    const root = select(svg);
    root.selectAll("*").remove();
    const canvas = root.append("g").attr("class", "canvas");

    const link = canvas
      .append("g")
      .attr("aria-hidden", "true")
      .selectAll<SVGLineElement, Link>("line")
      .data(links)
      .join("line")
      .attr("stroke", (d) => d.color)
      .attr("stroke-width", (d) => d.width)
      .attr("stroke-opacity", 0.75)
      .attr("stroke-dasharray", (d) => (d.dashed ? "5 4" : null));
    link.append("title").text((d) => d.label);

    const node = canvas
      .append("g")
      .selectAll<SVGGElement, SimNode>("g")
      .data(nodes, (d) => d.id)
      .join("g")
      .attr("data-node", (d) => d.type)
      .attr("data-id", (d) => d.id)
      .attr("role", "button")
      .attr("tabindex", 0)
      .attr("aria-label", (d) => d.description)
      .style("cursor", "pointer")
      .on("click", (_event, d) => onSelectRef.current(d))
      .on("keydown", (event: KeyboardEvent, d) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          onSelectRef.current(d);
        }
      })
      .on("dblclick", (_event, d) => {
        d.fx = null;
        d.fy = null;
        simRef.current?.alpha(0.3).restart();
      });
    node
      .append("circle")
      .attr("r", (d) => d.radius)
      .attr("fill", (d) => d.color)
      .attr("stroke", "var(--surface)")
      .attr("stroke-width", 2);
    node
      .append("text")
      .text((d) => (d.label.length > 22 ? `${d.label.slice(0, 21)}…` : d.label))
      .attr("x", (d) => d.radius + 4)
      .attr("y", 4)
      .attr("font-size", 11)
      .attr("fill", "var(--text)")
      .attr("aria-hidden", "true");

    const simulation = forceSimulation<SimNode, Link>(nodes)
      .force(
        "link",
        forceLink<SimNode, Link>(links)
          .id((d) => d.id)
          .distance(70)
          .strength(0.4),
      )
      .force("charge", forceManyBody<SimNode>().strength(-160))
      .force("x", forceX<SimNode>((d) => layerX(d.layer, width)).strength(0.6))
      .force("y", forceY<SimNode>(height / 2).strength(0.06))
      .force("collide", forceCollide<SimNode>((d) => d.radius + 6));
    simRef.current = simulation;

    simulation.on("tick", () => {
      link
        .attr("x1", (d) => (d.source as SimNode).x ?? 0)
        .attr("y1", (d) => (d.source as SimNode).y ?? 0)
        .attr("x2", (d) => (d.target as SimNode).x ?? 0)
        .attr("y2", (d) => (d.target as SimNode).y ?? 0);
      node.attr("transform", (d) => `translate(${d.x ?? 0},${d.y ?? 0})`);
    });

    node.call(
      drag<SVGGElement, SimNode>()
        .on("start", (event, d) => {
          if (!event.active) simulation.alphaTarget(0.3).restart();
          d.fx = d.x;
          d.fy = d.y;
        })
        .on("drag", (event, d) => {
          d.fx = event.x;
          d.fy = event.y;
        })
        .on("end", (event) => {
          if (!event.active) simulation.alphaTarget(0);
        }),
    );

    const zoomer = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.3, 4])
      .on("zoom", (event) => canvas.attr("transform", event.transform.toString()));
    root.call(zoomer).call(zoomer.transform, zoomIdentity);

    return () => {
      simulation.stop();
      root.on(".zoom", null);
    };
  }, [graph]);

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    select(svg)
      .selectAll<SVGGElement, SimNode>("g[data-node]")
      .attr("aria-pressed", (d) => (d.id === selected ? "true" : "false"))
      .select("circle")
      .attr("stroke", (d) => (d.id === selected ? "var(--focus)" : "var(--surface)"))
      .attr("stroke-width", (d) => (d.id === selected ? 4 : 2));
  }, [selected, graph]);

  return (
    <svg
      ref={svgRef}
      role="group"
      aria-label={`Data graph: ${graph.nodes.length} nodes and ${graph.links.length} links. Tab through the nodes; Enter shows one.`}
    />
  );
}
