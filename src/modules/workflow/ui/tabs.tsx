/** @jsxImportSource hono/jsx */
/** The workflow console's own navigation, under the console's: runs and definitions. */

/** Links to the workflow pages; `active` marks the one shown. */
export function WorkflowTabs(props: { active: 'runs' | 'definitions' }) {
  return (
    <div class="wf-tabs" id="wf-tabs">
      <a href="/ui/workflow" class={props.active === 'runs' ? 'active' : ''}>
        Runs
      </a>
      <a href="/ui/workflow/definitions" class={props.active === 'definitions' ? 'active' : ''}>
        Definitions
      </a>
    </div>
  );
}
