// For simulation only: when a module's assertions start to hold. on_o rises at the first clock
// edge after reset and stays high, so the checks begin at the second edge. A module gates its
// assertions on it (`disable iff (!chk_q)`) rather than on rst_ni, since Verilator flags an
// asynchronous reset used synchronously (SYNCASYNCNET). Instantiated only under
// `ifndef SYNTHESIS`.
module systole_chk (
  input  logic clk_i,
  input  logic rst_ni,
  output logic on_o
);

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      on_o <= 1'b0;
    end else begin
      on_o <= 1'b1;
    end
  end

endmodule
